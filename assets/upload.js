/* Chunked upload of an Apple Health export: the file is sliced (Blob.slice) and sent as raw
   bytes with Content-Range, 8 MB at a time, so neither the browser nor the server ever holds
   the whole file (or a base64 copy of it) in memory. */
(function () {
  "use strict";

  function say(text) {
    var el = document.getElementById("upload-status");
    if (el) { el.textContent = text; }
  }

  function progress(done, total) {
    var bar = document.getElementById("upload-progress");
    if (bar) { bar.max = total; bar.value = done; }
  }

  async function send(url, options, attempts) {
    for (var i = 1; ; i++) {
      try {
        var response = await fetch(url, Object.assign({credentials: "same-origin"}, options));
        if (response.ok) { return response.json(); }
        var body = await response.json().catch(function () { return {}; });
        if (response.status < 500 || i >= attempts) {
          throw new Error(body.detail || body.error || ("HTTP " + response.status));
        }
      } catch (err) {
        if (i >= attempts) { throw err; }
      }
      await new Promise(function (r) { setTimeout(r, 500 * i); });
    }
  }

  async function upload(button) {
    var input = document.getElementById("upload-file");
    var file = input && input.files && input.files[0];
    if (!file) { say("Choose your export.zip (or export.xml) first."); return; }
    button.disabled = true;
    try {
      var patient = Number(button.dataset.patient);
      var started = Date.now();
      var meta = await send("/api/v1/uploads", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({patient_id: patient, filename: file.name, size: file.size})
      }, 3);
      for (var start = 0; start < file.size; start += meta.chunk_size) {
        var end = Math.min(start + meta.chunk_size, file.size);
        await send("/api/v1/uploads/" + meta.id, {
          method: "PUT",
          headers: {"Content-Type": "application/octet-stream",
                    "Content-Range": "bytes " + start + "-" + (end - 1) + "/" + file.size},
          body: file.slice(start, end)
        }, 4);
        progress(end, file.size);
        var mb = end / 1048576, secs = (Date.now() - started) / 1000;
        say("Uploading: " + mb.toFixed(1) + " of " + (file.size / 1048576).toFixed(1) +
            " MB (" + (mb / Math.max(secs, 0.001)).toFixed(1) + " MB/s)");
      }
      var job = await send("/api/v1/uploads/" + meta.id + "/import", {method: "POST"}, 3);
      say("Uploaded. Importing in the background: you can leave this page and come back.");
      window.dash_clientside.set_props("active-job", {data: job.job_id});
    } catch (err) {
      say("Upload failed: " + err.message + ". Nothing was imported; try again.");
    } finally {
      button.disabled = false;
    }
  }

  // Dash has no plain <input type=file>: add one wherever the page leaves a slot for it.
  function fillSlots() {
    var slot = document.getElementById("upload-file-slot");
    if (slot && !slot.querySelector("input")) {
      var input = document.createElement("input");
      input.type = "file";
      input.id = "upload-file";
      input.accept = ".zip,.xml";
      input.className = "form-control";
      slot.appendChild(input);
    }
  }
  new MutationObserver(fillSlots).observe(document.documentElement,
                                          {childList: true, subtree: true});

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#upload-start");
    if (button) { event.preventDefault(); upload(button); }
  });
})();
