// Upload the register with a progress bar; without JavaScript the form posts normally.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("[data-import-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file || !file.files.length) return;
    event.preventDefault();
    var box = document.getElementById("import-progress");
    var bar = document.getElementById("import-bar");
    var label = box.querySelector("label");
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server checks every row
      if (label) label.textContent = label.dataset.checking || label.textContent;
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL !== window.location.href && xhr.status < 400) {
        window.location.assign(xhr.responseURL);
      } else {
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    });
    xhr.addEventListener("error", function () { form.submit(); });
    xhr.send(new FormData(form));
  });
});
