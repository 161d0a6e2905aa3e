// What every staff map shares (the map page, a ticket's small map, the places admin): a Leaflet map
// in an element rendered by map/mapFrame.ts, its background tiles, and the look of areas, places
// and requests. With no tiles (MAP_TILE_URL=off, no network) the map keeps a plain background and
// still shows everything else. Text from the server is only ever put in the page as text
// (textContent), never as HTML. Loaded after leaflet.js; exposes window.BaladiyaMap.
(function () {
  "use strict";

  /** Where the town is, when a map has nothing to fit to (Qab Elias - Wadi al-Delm). */
  var TOWN = { center: [33.7905, 35.8244], zoom: 14 };
  /** Tile errors before any tile loaded after which the tiles are given up (offline office). */
  var OFFLINE_AFTER_ERRORS = 4;

  /** Status colours, shared with the queue's status pills (staff.css). */
  var STATUS_COLOURS = {
    new: "#1d6fb8",
    waiting_staff: "#c26a00",
    in_progress: "#7a4bc2",
    resolved: "#2e7d32",
    closed: "#6b7280",
  };

  /** The colour kinds of place are drawn in; child-related ones get a ring as well. */
  var PLACE_COLOURS = {
    school: "#d9480f",
    kindergarten: "#d9480f",
    childcare: "#d9480f",
    schoolyard: "#d9480f",
    playground: "#e8590c",
    park: "#2b8a3e",
    clinic: "#c92a2a",
    pharmacy: "#c92a2a",
    place_of_worship: "#5f3dc4",
    landmark: "#495057",
  };

  function statusColour(status) {
    return STATUS_COLOURS[status] || "#374151";
  }

  /** An element with text: the only way server text reaches the page. */
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function showOffline(container) {
    if (container.querySelector(".map-offline-note")) return;
    container.classList.add("map-offline");
    var note = el("p", container.dataset.offline || "", "map-offline-note");
    note.setAttribute("role", "status");
    container.appendChild(note);
  }

  /**
   * A map in `container` (an element from mapFrame): tiles when configured, given up with a note
   * when none loads; the plain background otherwise. Options: Leaflet map options.
   */
  function create(container, options) {
    // maxZoom set here, not only by the tiles: without tiles the map would have none (clustering needs one).
    var map = L.map(container, Object.assign({ zoomControl: true, attributionControl: true, maxZoom: 19 }, options || {}));
    map.setView(TOWN.center, TOWN.zoom);
    var url = container.dataset.tiles;
    if (url) {
      // The staff pages send no Referer (Referrer-Policy), but tile servers such as OpenStreetMap's
      // refuse tiles without one: the tiles alone send our origin, never a page's path.
      var layer = L.tileLayer(url, { maxZoom: 19, attribution: "", referrerPolicy: "strict-origin-when-cross-origin" });
      var loaded = 0;
      var errors = 0;
      layer.on("tileload", function () {
        loaded += 1;
      });
      layer.on("tileerror", function () {
        errors += 1;
        if (loaded === 0 && errors >= OFFLINE_AFTER_ERRORS && map.hasLayer(layer)) {
          map.removeLayer(layer);
          showOffline(container);
        }
      });
      layer.addTo(map);
      // The attribution is text from the configuration: added as text, not HTML.
      if (container.dataset.attribution) map.attributionControl.addAttribution(escapeText(container.dataset.attribution));
    } else {
      container.classList.add("map-offline");
    }
    return map;
  }

  /** Leaflet's attribution control takes HTML: escape the configured text. */
  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  /** Areas as outlined polygons, the name as a tooltip. `name` picks the name from properties. */
  function areasLayer(collection, name) {
    return L.geoJSON(collection, {
      style: function () {
        return { color: "#1f6f5c", weight: 2, opacity: 0.8, fillColor: "#1f6f5c", fillOpacity: 0.06, className: "map-area" };
      },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(el("span", name(feature.properties)), { sticky: true, direction: "auto" });
      },
    });
  }

  /** Places as small circles coloured by kind; child-related ones ringed. */
  function placesLayer(collection, name, onEach) {
    return L.geoJSON(collection, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties || {};
        return L.circleMarker(latlng, {
          radius: p.child_related ? 7 : 5,
          color: p.child_related ? "#ffd43b" : "#ffffff",
          weight: p.child_related ? 3 : 1.5,
          fillColor: placeColour(p.kind),
          fillOpacity: 0.95,
          className: "map-place" + (p.child_related ? " map-place-child" : ""),
        });
      },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(el("span", name(feature.properties)), { direction: "top" });
        if (onEach) onEach(feature, layer);
      },
    });
  }

  /**
   * One request as a circle coloured by status; child-related ones bigger, with a dark ring. Its
   * SVG path has the class map-request (plus map-request-child, map-request-approximate), and the
   * marker remembers `childRelated` (the map page's clusters are marked by it).
   */
  function requestMarker(latlng, status, childRelated, approximate) {
    var marker = L.circleMarker(latlng, {
      radius: childRelated ? 9 : 7,
      color: childRelated ? "#111827" : "#ffffff",
      weight: childRelated ? 3 : 1.5,
      dashArray: approximate ? "3 3" : null,
      fillColor: statusColour(status),
      fillOpacity: 0.9,
      className: "map-request" + (childRelated ? " map-request-child" : "") + (approximate ? " map-request-approximate" : ""),
    });
    marker.childRelated = Boolean(childRelated);
    return marker;
  }

  function placeColour(kind) {
    return PLACE_COLOURS[kind] || "#495057";
  }

  /**
   * Fits the map to the layers that have something in them; the town otherwise. `options` (optional)
   * go to Leaflet's fitBounds/setView, such as { animate: false } for a page's first view.
   */
  function fitTo(map, layers, options) {
    var bounds = null;
    layers.forEach(function (layer) {
      if (!layer || typeof layer.getBounds !== "function") return;
      var b = layer.getBounds();
      if (!b.isValid()) return;
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
    if (bounds) map.fitBounds(bounds, Object.assign({ padding: [24, 24], maxZoom: 17 }, options || {}));
    else map.setView(TOWN.center, TOWN.zoom, options || {});
  }

  /** GET a JSON document of this site with the staff session; rejects on any non-2xx answer. */
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json, application/geo+json" } }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    });
  }

  window.BaladiyaMap = {
    create: create,
    areasLayer: areasLayer,
    placesLayer: placesLayer,
    requestMarker: requestMarker,
    statusColour: statusColour,
    fitTo: fitTo,
    getJson: getJson,
    el: el,
    STATUS_COLOURS: STATUS_COLOURS,
    placeColour: placeColour,
  };
})();
