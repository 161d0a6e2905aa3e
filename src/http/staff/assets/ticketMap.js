// The ticket page's small map (ticketPage.ts: locationCard): the request's point coloured by status
// (ringed when child-related, dashed when approximate), the landmark it was matched to, the child
// zone's place and circle, and the area's outline, all from the map element's data attributes.
// A click on the map fills the "set the point" form and moves a marker there; typing in the form
// moves it too. Nothing is saved until the form is sent. Loaded after mapBase.js.
(function () {
  "use strict";
  var container = document.getElementById("ticket-map");
  if (!container || !window.L || !window.BaladiyaMap) return;
  var M = window.BaladiyaMap;

  /** A data attribute's JSON, or null when absent or unreadable. */
  function data(name) {
    var raw = container.dataset[name];
    if (!raw) return null;
    try {
      return JSON.parse(raw);
    } catch (e) {
      return null;
    }
  }

  var point = data("point");
  var place = data("place");
  var zone = data("zone");
  var area = data("area");
  var labels = data("labels") || {};

  // The page scrolls past the map: the wheel only zooms once the map has been clicked.
  var map = M.create(container, { scrollWheelZoom: false });
  map.once("focus", function () {
    map.scrollWheelZoom.enable();
  });

  /** What the map is fitted to: the request and what is around it. */
  var layers = [];
  var outline = null;

  if (area && area.geometry) {
    outline = M.areasLayer({ type: "Feature", geometry: area.geometry, properties: { name: area.name } }, function (p) {
      return p.name;
    });
    outline.addTo(map);
  }

  if (zone) {
    var circle = L.circle([zone.lat, zone.lng], { radius: zone.radius, color: "#d9480f", weight: 1.5, dashArray: "4 4", fillColor: "#ffd43b", fillOpacity: 0.12 });
    if (zone.label) circle.bindTooltip(M.el("span", zone.label), { sticky: true });
    circle.addTo(map);
    layers.push(circle);
  }

  // The landmark and the child zone's place (often the same place: drawn once).
  var features = [];
  function placeFeature(p) {
    return { type: "Feature", geometry: { type: "Point", coordinates: [p.lng, p.lat] }, properties: { name: p.name, kind: p.kind, child_related: !!p.childRelated } };
  }
  if (place) features.push(placeFeature(place));
  if (zone && !(place && place.lat === zone.lat && place.lng === zone.lng)) features.push(placeFeature(zone));
  if (features.length > 0) {
    var places = M.placesLayer({ type: "FeatureCollection", features: features }, function (p) {
      return p.name;
    });
    places.addTo(map);
    layers.push(places);
  }

  if (point) {
    var marker = M.requestMarker([point.lat, point.lng], point.status, point.childRelated, point.approximate);
    marker.bindTooltip(M.el("span", point.label), { direction: "top" });
    marker.addTo(map);
    layers.push(L.featureGroup([marker]));
  }

  // The point with its landmark and zone; else the area; else the town (mapBase).
  M.fitTo(map, layers.length > 0 ? layers : [outline], { animate: false });

  var form = document.getElementById(container.dataset.form || "");
  if (!form) return;
  var latInput = form.querySelector("input[name=latitude]");
  var lngInput = form.querySelector("input[name=longitude]");
  if (!latInput || !lngInput) return;
  var draft = null;

  function showDraft(latlng) {
    if (!draft) {
      draft = L.circleMarker(latlng, { radius: 8, color: "#111827", weight: 3, fillColor: "#ffffff", fillOpacity: 0.7 });
      if (labels.newPoint) draft.bindTooltip(M.el("span", labels.newPoint), { direction: "top" });
      draft.addTo(map);
    } else {
      draft.setLatLng(latlng);
    }
  }

  map.on("click", function (event) {
    latInput.value = event.latlng.lat.toFixed(6);
    lngInput.value = event.latlng.lng.toFixed(6);
    showDraft(event.latlng);
    // The form may be folded away (a ticket that already has a point): open it to show the values.
    var details = form.closest("details");
    if (details) details.open = true;
  });

  /** A number as staff type it, as the server reads it: Arabic-Indic digits, the Arabic decimal mark. */
  function decimal(text) {
    var folded = String(text)
      .replace(/[\u200e\u200f\u061c]/g, "")
      .replace(/[\u0660-\u0669]/g, function (d) {
        return String(d.charCodeAt(0) - 0x0660);
      })
      .replace(/[\u06f0-\u06f9]/g, function (d) {
        return String(d.charCodeAt(0) - 0x06f0);
      })
      .replace(/\u066b/g, ".")
      .trim();
    return /^[-+]?\d{1,3}(?:\.\d{1,15})?$/.test(folded) ? Number(folded) : NaN;
  }

  function typed() {
    var latText = latInput.value.trim();
    var lngText = lngInput.value.trim();
    // "33.7951, 35.8262" pasted into the latitude box, as the server reads it.
    if (!lngText) {
      var pair = latText.split(/\s*[,\u060c]\s*|\s+/);
      if (pair.length !== 2) return;
      latText = pair[0];
      lngText = pair[1];
    }
    var lat = decimal(latText);
    var lng = decimal(lngText);
    if (!isFinite(lat) || !isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return;
    if (point && lat.toFixed(6) === Number(point.lat).toFixed(6) && lng.toFixed(6) === Number(point.lng).toFixed(6)) return;
    showDraft([lat, lng]);
    map.panTo([lat, lng]);
  }
  latInput.addEventListener("change", typed);
  lngInput.addEventListener("change", typed);
})();
