// Self-check questions: compare the reader's answer with the page's, in the browser.
(function () {
  "use strict";

  function chosen(question) {
    if (question.dataset.kind === "number") {
      var box = question.querySelector("input[type=text]");
      var text = box.value.trim().replace(",", ".");
      return text === "" ? null : text;
    }
    var picked = question.querySelector("input[type=radio]:checked");
    return picked ? picked.value : null;
  }

  function isRight(question, answer) {
    if (question.dataset.kind === "number") {
      var value = Number(answer);
      var tolerance = Number(question.dataset.tolerance || 0);
      return Number.isFinite(value) &&
        Math.abs(value - Number(question.dataset.answer)) <= tolerance + 1e-12;
    }
    return answer === question.dataset.answer;
  }

  function check(question) {
    var feedback = question.querySelector(".self-check-feedback");
    var explanation = question.querySelector(".self-check-explanation");
    var answer = chosen(question);
    feedback.classList.remove("self-check-right", "self-check-wrong");
    if (answer === null) {
      feedback.textContent = question.dataset.kind === "number"
        ? "Type a number first." : "Pick an answer first.";
      return;
    }
    if (isRight(question, answer)) {
      feedback.textContent = "✓ Right.";
      feedback.classList.add("self-check-right");
      if (explanation) explanation.hidden = false;
    } else {
      feedback.textContent = "✗ Not quite. Reread the section above and try again.";
      feedback.classList.add("self-check-wrong");
      if (explanation) explanation.hidden = true;
    }
  }

  function setUp() {
    document.querySelectorAll(".self-check").forEach(function (question) {
      question.querySelector(".self-check-button").addEventListener("click", function () {
        check(question);
      });
      question.querySelectorAll("input[type=radio]").forEach(function (radio) {
        radio.addEventListener("change", function () { check(question); });
      });
      var box = question.querySelector("input[type=text]");
      if (box) {
        box.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); check(question); }
        });
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
