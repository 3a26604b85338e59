/* nls-lessons: static explorer frames (see nls_lessons/widgets/frames.py for the HTML contract).
 * Plain JavaScript, no dependencies. Binds every .nls-frames block once; moving a range
 * slider shows the matching img.nls-frame (data-key "i" or "i,j") and updates the
 * output.nls-frames-value. window.nlsFramesInit(root) (re)binds the blocks inside root (or root itself).
 */
(function () {
  "use strict";
  if (window.nlsFramesInit) {            // already loaded (inline copy + book-wide file)
    window.nlsFramesInit(document);
    return;
  }

  function bind(block) {
    if (block.getAttribute("data-nls-bound") === "1") return;
    block.setAttribute("data-nls-bound", "1");
    var names = (block.getAttribute("data-params") || "").split(/\s+/).filter(Boolean);
    var sliders = {};
    names.forEach(function (name) {
      sliders[name] = block.querySelector('input.nls-frames-slider[data-param="' + name + '"]');
    });
    var frames = block.querySelectorAll("img.nls-frame");

    function update() {
      var key = names.map(function (n) { return sliders[n] ? sliders[n].value : "0"; }).join(",");
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].getAttribute("data-key") === key) frames[i].removeAttribute("hidden");
        else frames[i].setAttribute("hidden", "");
      }
      names.forEach(function (n) {
        var s = sliders[n];
        var out = block.querySelector('output.nls-frames-value[data-param="' + n + '"]');
        if (!s || !out) return;
        var labels = [];
        try { labels = JSON.parse(s.getAttribute("data-labels") || "[]"); } catch (e) { labels = []; }
        var text = labels[Number(s.value)];
        out.textContent = text === undefined ? s.value : text;
        s.setAttribute("aria-valuetext", out.textContent);
      });
    }

    names.forEach(function (n) {
      if (sliders[n]) {
        sliders[n].addEventListener("input", update);
        sliders[n].addEventListener("change", update);
      }
    });
    update();
  }

  function init(root) {
    root = root || document;
    if (root.classList && root.classList.contains("nls-frames")) { bind(root); return; }
    var blocks = root.querySelectorAll(".nls-frames");
    for (var i = 0; i < blocks.length; i++) bind(blocks[i]);
  }

  window.nlsFramesInit = init;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
