// The dashboard's only script: a Print button. Kept in a static file so the pages run under script-src 'self'.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-sg-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
