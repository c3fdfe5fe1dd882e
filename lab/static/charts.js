/*
 * Draw every <canvas data-chart='{Chart.js config}'> on the page with
 * window.Chart. No build step: the lab's standalone report inlines this file,
 * the cockpit serves it; both write the canvases with lab/charts.py.
 * A canvas is drawn once (data-drawn), and canvases that htmx swaps in later
 * are drawn too.
 */
(function () {
  "use strict";

  function drawCharts(root) {
    var canvases = (root || document).querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      if (canvas.dataset.drawn || !window.Chart) {
        return;
      }
      new window.Chart(canvas, JSON.parse(canvas.dataset.chart));
      canvas.dataset.drawn = "true";
    });
  }

  window.drawCharts = drawCharts;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawCharts(document);
    });
  } else {
    drawCharts(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    drawCharts(event.target);
  });
})();
