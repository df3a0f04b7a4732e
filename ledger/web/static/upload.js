/* ledger serve: the upload area of 本期. Files go one request each (two at a time), so each
   file's verdict shows as soon as it is judged; the verdict rows are rendered (and escaped)
   by the server. Without this script the form posts all files at once. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("upload-files");
  var zone = document.getElementById("drop-zone");
  var bar = document.getElementById("upload-progress");
  var statusLine = document.getElementById("upload-status");
  var table = document.getElementById("verdicts");
  var body = table.querySelector("tbody");
  var token = form.querySelector("input[name=csrf_token]").value;
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var chosen = document.getElementById("chosen");
  var PARALLEL = 2;
  form.classList.add("js");
  input.addEventListener("change", function () {
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    chosen.textContent = names.length ? "已选择 " + names.length + " 个文件：" + names.join("、") : "";
  });

  function row(text) {
    var tr = document.createElement("tr");
    var td = document.createElement("td");
    tr.className = "verdict verdict-failed";
    td.colSpan = 6;
    td.textContent = text;
    tr.appendChild(td);
    body.appendChild(tr);
  }

  function send(files) {
    var queue = Array.prototype.slice.call(files);
    var total = queue.length, finished = 0, running = 0;
    var received = form.elements.received_at.value, otherPeriods = form.elements.other_periods.checked;
    if (!total) { statusLine.textContent = "请先选择要上传的文件。"; return; }
    table.hidden = false;
    bar.hidden = false;
    bar.max = total;
    function show() {
      bar.value = finished;
      statusLine.textContent = finished < total ? "正在校验：已完成 " + finished + " / " + total + " 个文件……"
        : "全部 " + total + " 个文件已处理完。刷新页面可看到最新的报送情况。";
    }
    function done() { running -= 1; finished += 1; show(); next(); }
    function one(file) {
      if (maxBytes && file.size > maxBytes) { row(file.name + "：文件太大，超过上传上限。"); done(); return; }
      var data = new FormData();
      data.append("csrf_token", token);
      data.append("files", file, file.name);
      data.append("modified", String(file.lastModified || ""));
      if (received) { data.append("received_at", received); }
      if (otherPeriods) { data.append("other_periods", "1"); }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Ledger-Fragment", "1");
      xhr.onload = function () {
        if (xhr.getResponseHeader("Content-Type") && xhr.getResponseHeader("Content-Type").indexOf("text/html") === 0) {
          body.insertAdjacentHTML("beforeend", xhr.responseText);
        } else {
          row(file.name + "：" + (xhr.responseText || "上传失败（" + xhr.status + "）"));
        }
        done();
      };
      xhr.onerror = function () { row(file.name + "：上传中断（服务器没有响应），请重试。"); done(); };
      xhr.send(data);
    }
    function next() {
      while (running < PARALLEL && queue.length) { running += 1; one(queue.shift()); }
    }
    show();
    next();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.files);
    input.value = "";
    chosen.textContent = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    send(event.dataTransfer.files);
  });
}());
