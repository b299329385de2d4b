// Titles of matching articles offered while a query is typed in the site's search box: the
// box gets a <datalist> filled from /search/suggest/ (a native, accessible list of options).
(function () {
  "use strict";
  var input = document.getElementById("site-search");
  if (!input || !window.fetch) { return; }
  var list = document.createElement("datalist");
  list.id = "site-search-suggestions";
  document.body.appendChild(list);
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  var timer = null;
  var asked = "";
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(suggest, 200);
  });
  function suggest() {
    var query = input.value.trim();
    if (query.length < 3 || query === asked) { return; }
    asked = query;
    fetch("/search/suggest/?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (data.query !== input.value.trim()) { return; }
        list.textContent = "";
        data.results.forEach(function (result) {
          var option = document.createElement("option");
          option.value = result.title;
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are a convenience: the search still works */ });
  }
})();
