// The places admin's "click on the map to place one" (admin/placesAdmin.ts): a small map with the
// town's places and areas inside the place form. Clicking the map (or dragging the marker) writes
// the point into the form's latitude and longitude inputs; typing in them moves the marker. The
// inputs stay ordinary fields, so the form works without this script and the server checks them.
(function () {
  "use strict";
  var container = document.getElementById("place-picker");
  if (!container || !window.L || !window.BaladiyaMap) return;
  var M = window.BaladiyaMap;
  var form = container.closest("form");
  var latInput = form && form.querySelector('input[name="latitude"]');
  var lngInput = form && form.querySelector('input[name="longitude"]');
  if (!latInput || !lngInput) return;
  var lang = container.dataset.lang === "en" ? "en" : "ar";
  var rtl = container.dataset.dir === "rtl";
  /** Where the town may be: a typed point outside this is not followed (a half-typed number). */
  var LEBANON = L.latLngBounds([33.0, 35.0], [34.8, 36.7]); // as the server checks (LEBANON_BBOX)

  var map = M.create(container, { zoomControl: false });
  L.control.zoom({ position: rtl ? "topright" : "topleft" }).addTo(map);
  var marker = null;

  function localName(properties) {
    var p = properties || {};
    var first = lang === "ar" ? p.name_ar : p.name_en;
    var second = lang === "ar" ? p.name_en : p.name_ar;
    return (first && String(first).trim()) || second || "";
  }

  /** The point the inputs hold, or null while they do not hold one in Lebanon. */
  function typedPoint() {
    var lat = Number(String(latInput.value).trim());
    var lng = Number(String(lngInput.value).trim());
    if (latInput.value.trim() === "" || lngInput.value.trim() === "" || !isFinite(lat) || !isFinite(lng)) return null;
    var point = L.latLng(lat, lng);
    return LEBANON.contains(point) ? point : null;
  }

  function place(latlng) {
    if (marker) marker.setLatLng(latlng);
    else {
      marker = L.marker(latlng, { draggable: true, keyboard: true, autoPan: true }).addTo(map);
      marker.on("dragend", function () {
        write(marker.getLatLng());
      });
    }
  }

  /** Writes a point into the inputs (6 decimals, about 11 cm) and tells the form they changed. */
  function write(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    lngInput.value = latlng.lng.toFixed(6);
    [latInput, lngInput].forEach(function (input) {
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  map.on("click", function (event) {
    place(event.latlng);
    write(event.latlng);
  });

  [latInput, lngInput].forEach(function (input) {
    input.addEventListener("input", function () {
      var point = typedPoint();
      if (!point) return;
      place(point);
      if (!map.getBounds().contains(point)) map.panTo(point);
    });
  });

  var start = typedPoint();
  if (start) {
    place(start);
    map.setView(start, 16);
  }

  Promise.all([M.getJson(container.dataset.areas), M.getJson(container.dataset.places)])
    .then(function (collections) {
      var areas = M.areasLayer(collections[0], localName).addTo(map);
      var places = M.placesLayer(collections[1], localName).addTo(map);
      // A place or an area takes a click itself (its name tooltip opens on click): place the point there too.
      [areas, places].forEach(function (layer) {
        layer.on("click", function (event) {
          place(event.latlng);
          write(event.latlng);
        });
      });
      // The places, where a new one is most likely to go; the areas (the whole town) when there are none.
      if (!start) M.fitTo(map, places.getLayers().length > 0 ? [places] : [areas], { animate: false });
      container.dataset.ready = "true";
    })
    .catch(function () {
      container.dataset.ready = "failed";
    });
})();
