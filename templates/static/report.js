/* Tables on screen: a cue when a table is wider than its box, and columns sorted by a click on
   their heading (again: the other way, a third time: as printed). No other script. */
(function () {
  'use strict';

  function markOverflow() {
    document.querySelectorAll('.table-scroll').forEach(function (box) {
      var wider = box.scrollWidth > box.clientWidth + 1;
      var hint = box.previousElementSibling;
      box.classList.toggle('overflows', wider);
      if (hint && hint.classList.contains('scroll-hint')) { hint.hidden = !wider; }
    });
  }

  /* A cell as a number: "1.404", "21 %", "−1,5 procentpoint", "44 år"; null for "–", "◊". */
  function number(text) {
    var found = text.replace(/\u00a0/g, ' ').replace(/\u2212/g, '-')
      .match(/^\s*[<>=]?\s*(-?[\d.]*\d(?:,\d+)?)/);
    return found ? parseFloat(found[1].replace(/\./g, '').replace(',', '.')) : null;
  }

  function sortable(table) {
    var heads = table.querySelectorAll('thead th');
    var body = table.tBodies[0];
    if (!body || body.rows.length < 3) { return; }
    var original = Array.prototype.slice.call(body.rows);
    heads.forEach(function (head, column) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      while (head.firstChild) { button.appendChild(head.firstChild); }
      if (!button.textContent.trim()) { button.setAttribute('aria-label', 'Sortér rækkerne'); }
      head.appendChild(button);
      button.addEventListener('click', function () {
        var state = head.getAttribute('aria-sort');
        var next = state === 'ascending' ? 'descending' : state === 'descending' ? 'none' : 'ascending';
        heads.forEach(function (other) { other.removeAttribute('aria-sort'); });
        var rows = original.slice();
        if (next !== 'none') {
          head.setAttribute('aria-sort', next);
          var sign = next === 'ascending' ? 1 : -1;
          rows.sort(function (a, b) {
            var x = a.cells[column].textContent, y = b.cells[column].textContent;
            var p = number(x), q = number(y);
            if (p === null || q === null) {
              if (p !== q) { return p === null ? 1 : -1; }
              return sign * x.localeCompare(y, 'da');
            }
            return sign * (p - q);
          });
        }
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  document.querySelectorAll('.table-scroll table').forEach(sortable);
  markOverflow();
  window.addEventListener('resize', markOverflow);
  document.addEventListener('toggle', markOverflow, true);
}());
