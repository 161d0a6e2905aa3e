// The staff map page (/staff/map, map/mapPage.ts): draws the requests (clustered), places and areas
// the page's filters select, with a popup per request and a layer control. The data come from the
// page's own GeoJSON routes (data-requests, data-places, data-areas); the words from data-labels.
// Text from the server only ever reaches the page as text (BaladiyaMap.el), never as HTML.
(function () {
  "use strict";
  var container = document.getElementById("staff-map");
  if (!container || !window.L || !window.BaladiyaMap) return;
  var M = window.BaladiyaMap;
  var labels = JSON.parse(container.dataset.labels || "{}");
  var lang = container.dataset.lang === "en" ? "en" : "ar";
  var rtl = container.dataset.dir === "rtl";

  foldFiltersOnSmallScreens();
  paintLegend();

  var map = M.create(container, { zoomControl: false });
  L.control.zoom({ position: rtl ? "topright" : "topleft" }).addTo(map);

  // Each layer on its own: the requests are drawn even when the areas could not be loaded.
  var EMPTY = { type: "FeatureCollection", features: [] };
  var failed = false;
  function load(url) {
    return M.getJson(url).catch(function (error) {
      if (window.console) console.error(error);
      failed = true;
      return EMPTY;
    });
  }
  Promise.all([load(container.dataset.areas), load(container.dataset.places), load(container.dataset.requests)]).then(function (collections) {
    draw(collections[0], collections[1], collections[2]);
    if (!failed) return;
    var note = M.el("p", labels.loadFailed, "map-error-note");
    note.setAttribute("role", "alert");
    container.appendChild(note);
  });

  function draw(areas, places, requests) {
    var areaLayer = M.areasLayer(areas, localName);
    var placeLayer = M.placesLayer(places, localName);
    var requestLayer = L.markerClusterGroup({
      maxClusterRadius: 40,
      showCoverageOnHover: false,
      // Requests at one landmark share its point: at the last zoom their cluster spreads them out.
      spiderfyOnMaxZoom: true,
      // Thousands of requests are clustered in steps, so an office PC's page stays responsive.
      chunkedLoading: true,
      iconCreateFunction: clusterIcon,
    });
    var markers = [];
    (requests.features || []).forEach(function (feature) {
      var c = feature.geometry && feature.geometry.coordinates;
      if (!c || c.length < 2) return;
      var p = feature.properties || {};
      var marker = M.requestMarker([c[1], c[0]], p.status, p.child_related, p.approximate);
      marker.bindPopup(function () {
        return popup(p);
      });
      markers.push(marker);
    });
    requestLayer.addLayers(markers);
    // The first view without animation: the clusters are then made once, at the zoom that stays.
    if (markers.length > 0) M.fitTo(map, [requestLayer], { animate: false });
    else M.fitTo(map, [areaLayer, placeLayer], { animate: false });
    areaLayer.addTo(map);
    placeLayer.addTo(map);
    requestLayer.addTo(map);

    var overlays = {};
    overlays[text(labels.layers && labels.layers.requests)] = requestLayer;
    overlays[text(labels.layers && labels.layers.places)] = placeLayer;
    overlays[text(labels.layers && labels.layers.areas)] = areaLayer;
    L.control.layers(null, overlays, { position: rtl ? "topleft" : "topright", collapsed: window.innerWidth < 720 }).addTo(map);

    container.dataset.ready = String(markers.length);
  }

  /** A place's or area's name in the page's language, the other one when that is empty. */
  function localName(properties) {
    var p = properties || {};
    var first = lang === "ar" ? p.name_ar : p.name_en;
    var second = lang === "ar" ? p.name_en : p.name_ar;
    return (first && String(first).trim()) || second || "";
  }

  /** A cluster: how many requests, ringed when one of them is child-related. */
  function clusterIcon(cluster) {
    var children = cluster.getAllChildMarkers();
    var count = children.length;
    var child = children.some(function (m) {
      return m.childRelated;
    });
    var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    var inner = M.el("div");
    inner.appendChild(M.el("span", String(count)));
    return L.divIcon({
      html: inner,
      className: "marker-cluster marker-cluster-" + size + (child ? " map-cluster-child" : ""),
      iconSize: L.point(40, 40),
    });
  }

  /** A request's summary: reference, category, status, when, where, why child-related, a link. */
  function popup(p) {
    var box = M.el("div", null, "map-popup");
    box.setAttribute("dir", rtl ? "rtl" : "ltr");
    var reference = Number(p.reference);
    var head = M.el("p", null, "map-popup-head");
    var link = M.el("a", "#" + reference, "map-popup-ref");
    var href = "/staff/tickets/" + encodeURIComponent(String(reference));
    link.href = href;
    link.setAttribute("dir", "ltr");
    head.appendChild(link);
    head.appendChild(document.createTextNode(" "));
    var status = M.el("span", (labels.status && labels.status[p.status]) || p.status, "badge status status-" + String(p.status).replace(/[^a-z_]/g, ""));
    head.appendChild(status);
    box.appendChild(head);

    var category = p.category ? (lang === "ar" ? p.category.name_ar : p.category.name_en) || p.category.code : labels.noCategory;
    box.appendChild(M.el("p", category, "map-popup-category"));
    if (p.created_at) box.appendChild(M.el("p", fill(labels.filed, { date: formatDate(p.created_at) }), "map-popup-line"));
    if (p.area) box.appendChild(M.el("p", fill(labels.area, { area: p.area }), "map-popup-line"));
    if (p.near_place) box.appendChild(M.el("p", fill(labels.near, { place: p.near_place }), "map-popup-line"));
    var reason = childReason(p.child_reason);
    if (p.child_related && reason) box.appendChild(M.el("p", reason, "map-popup-child"));
    if (p.approximate) box.appendChild(M.el("p", labels.approximate, "map-popup-line map-popup-approximate"));

    var open = M.el("a", labels.open, "btn btn-primary btn-small map-popup-open");
    open.href = href;
    var foot = M.el("p", null, "map-popup-foot");
    foot.appendChild(open);
    box.appendChild(foot);
    return box;
  }

  function childReason(reason) {
    var child = labels.child || {};
    if (!reason) return null;
    if (reason.kind === "zone") {
      if (!reason.place) return child.zoneUnnamed;
      if (reason.metres === null || reason.metres === undefined) return fill(child.zoneNoMetres, { place: reason.place });
      // A point taken from the place itself (an SMS landmark) is at it, not "0 m" from it.
      if (Number(reason.metres) < 1) return fill(child.at, { place: reason.place });
      return fill(child.zone, { place: reason.place, metres: String(reason.metres) });
    }
    if (reason.kind === "category") return child.category;
    return child.words;
  }

  /** Puts values in a template's {name} slots; the result is still plain text. */
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function formatDate(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    try {
      return new Intl.DateTimeFormat(labels.intl || undefined, { timeZone: "Asia/Beirut", dateStyle: "medium", timeStyle: "short" }).format(date);
    } catch (e) {
      return date.toISOString().slice(0, 16).replace("T", " ");
    }
  }

  /** Leaflet's layer control takes HTML: our labels go in escaped. */
  function text(value) {
    var div = document.createElement("div");
    div.textContent = value || "";
    return div.innerHTML;
  }

  /** The legend's swatches in the map's own colours (BaladiyaMap is the one place they are set). */
  function paintLegend() {
    document.querySelectorAll(".map-legend [data-status]").forEach(function (swatch) {
      swatch.style.backgroundColor = M.statusColour(swatch.getAttribute("data-status"));
    });
    document.querySelectorAll(".map-legend [data-kind]").forEach(function (swatch) {
      swatch.style.backgroundColor = M.placeColour(swatch.getAttribute("data-kind"));
    });
  }

  /** On a phone the filters start folded: the map matters more. (Without scripts they stay open.) */
  function foldFiltersOnSmallScreens() {
    var filters = document.getElementById("map-filters");
    if (!filters || !window.matchMedia) return;
    if (window.matchMedia("(max-width: 720px)").matches) filters.removeAttribute("open");
  }
})();
