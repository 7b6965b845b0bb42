// Shows the "what went wrong" box only after a low score. Without this
// script the box is always shown, labelled as being for low scores only.
(function () {
  "use strict";
  var form = document.querySelector(".survey-form");
  if (!form) return;
  var low = (form.getAttribute("data-low-scores") || "").split(",");
  var box = document.getElementById("reason");
  function update() {
    var checked = form.querySelector('input[name="score"]:checked');
    var show = !!checked && low.indexOf(checked.value) !== -1;
    box.hidden = !show;
    box.disabled = !show;
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "score") update();
  });
  var hint = box.querySelector(".hint");
  if (hint) hint.textContent = "(optional)";
  update();
})();
