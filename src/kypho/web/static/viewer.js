// kypho's radiograph viewer: the film on a canvas (zoom, pan, window/level), six
// landmarks per vertebra placed and dragged by the rater. Every number shown is
// computed by the server (/films/<sha>/measure, kypho.radiograph): this file only
// draws and sends the points' pixel coordinates. No external resource is used.
(function () {
  "use strict";
  const root = document.getElementById("viewer");
  if (!root) return;
  const setup = JSON.parse(root.dataset.setup);
  const csrf = root.dataset.csrf;
  const editable = root.dataset.editable === "yes";
  const canvas = document.getElementById("film");
  const g = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const cols = setup.columns;
  const rows = setup.rows;
  const N = setup.vertebrae.length * setup.points.length;
  const PER = setup.points.length;
  const COLOURS = ["#56B4E9", "#E69F00", "#009E73"];
  const off = document.createElement("canvas");
  off.width = cols;
  off.height = rows;
  const og = off.getContext("2d");
  const picture = og.createImageData(cols, rows);
  let values = null;
  let level = setup.center;
  let windowWidth = setup.width;
  let zoom = 1;
  let panX = 0;
  let panY = 0;
  let points = [];
  let calibration = null;
  let calibrating = null;
  let readId = setup.read_id;
  let inFlight = false;
  let pending = false;
  let drag = null;
  let mode = setup.view === "lateral" ? "landmarks" : "cement";
  let outlines = setup.outline ? { body: setup.outline.body, cement: setup.outline.cement } : { body: [], cement: [] };
  let outlining = outlines.body.length >= 3 ? "cement" : "body";
  let outlineId = setup.outline_id;
  window.kyphoTimings = [];

  if (setup.saved) {
    for (const vertebra of setup.saved) for (const p of vertebra) points.push([p[0], p[1]]);
  }
  const $ = (id) => document.getElementById(id);

  function lut() {
    const table = new Uint8ClampedArray(setup.max + 1);
    const low = level - windowWidth / 2;
    for (let v = 0; v <= setup.max; v++) table[v] = ((v - low) / windowWidth) * 255;
    return table;
  }

  function paint() {
    if (!values) return;
    const table = lut();
    const data = picture.data;
    for (let i = 0, j = 0; i < values.length; i++, j += 4) {
      const d = table[values[i]];
      data[j] = d;
      data[j + 1] = d;
      data[j + 2] = d;
      data[j + 3] = 255;
    }
    og.putImageData(picture, 0, 0);
    draw();
  }

  function screen(p) {
    return [p[0] * zoom + panX, p[1] * zoom + panY];
  }

  function draw() {
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = "#000";
    g.fillRect(0, 0, W, H);
    g.imageSmoothingEnabled = false;
    g.setTransform(zoom, 0, 0, zoom, panX, panY);
    g.drawImage(off, 0, 0);
    g.setTransform(1, 0, 0, 1, 0, 0);
    for (let v = 0; v * PER < points.length; v++) {
      const mine = points.slice(v * PER, v * PER + PER);
      g.strokeStyle = COLOURS[v % COLOURS.length];
      g.fillStyle = COLOURS[v % COLOURS.length];
      g.lineWidth = 1.5;
      for (const start of [0, 3]) {
        const line = mine.slice(start, start + 3);
        if (line.length < 2) continue;
        g.beginPath();
        line.forEach((p, i) => {
          const [x, y] = screen(p);
          if (i === 0) g.moveTo(x, y);
          else g.lineTo(x, y);
        });
        g.stroke();
      }
      mine.forEach((p) => {
        const [x, y] = screen(p);
        g.beginPath();
        g.arc(x, y, 4, 0, 2 * Math.PI);
        g.fill();
      });
    }
    for (const [name, colour] of [["body", "#56B4E9"], ["cement", "#E69F00"]]) {
      const poly = outlines[name];
      if (!poly.length) continue;
      g.strokeStyle = colour;
      g.fillStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      poly.forEach((p, i) => {
        const [x, y] = screen(p);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      if (poly.length >= 3) g.closePath();
      g.stroke();
      if (poly.length >= 3) {
        g.globalAlpha = 0.15;
        g.fill();
        g.globalAlpha = 1;
      }
      poly.forEach((p) => {
        const [x, y] = screen(p);
        g.beginPath();
        g.arc(x, y, 3.5, 0, 2 * Math.PI);
        g.fill();
      });
    }
    const cal = calibrating || (calibration ? [calibration.slice(0, 2), calibration.slice(2, 4)] : []);
    g.strokeStyle = "#F0E442";
    g.fillStyle = "#F0E442";
    cal.forEach((p, i) => {
      const [x, y] = screen(p);
      g.beginPath();
      g.arc(x, y, 3, 0, 2 * Math.PI);
      g.fill();
      if (i === 1) {
        const [x0, y0] = screen(cal[0]);
        g.beginPath();
        g.moveTo(x0, y0);
        g.lineTo(x, y);
        g.stroke();
      }
    });
    describeNext();
  }

  function describeNext() {
    const box = $("next-point");
    if (calibrating) {
      box.textContent = "";
      return;
    }
    if (points.length >= N) {
      box.textContent = "All 18 points placed. Drag a point to correct it.";
      return;
    }
    const v = setup.vertebrae[Math.floor(points.length / PER)];
    const p = setup.points[points.length % PER];
    box.textContent = editable
      ? `Place point ${points.length + 1} of ${N}: ${v} vertebra, ${p}.`
      : "You may view this film but not place landmarks.";
  }

  function centre() {
    panX = Math.round((W - cols * zoom) / 2);
    panY = Math.round((H - rows * zoom) / 2);
  }

  function fit() {
    zoom = Math.min(W / cols, H / rows);
    centre();
    draw();
  }

  function oneToOne() {
    zoom = 1;
    centre();
    draw();
  }

  function toImage(event) {
    const rect = canvas.getBoundingClientRect();
    const sx = (event.clientX - rect.left) * (W / rect.width);
    const sy = (event.clientY - rect.top) * (H / rect.height);
    return [(sx - panX) / zoom, (sy - panY) / zoom, sx, sy];
  }

  function nearest(sx, sy) {
    let best = -1;
    let bestD = 8;
    points.forEach((p, i) => {
      const [x, y] = screen(p);
      const d = Math.hypot(x - sx, y - sy);
      if (d < bestD) {
        best = i;
        bestD = d;
      }
    });
    return best;
  }

  function nearestVertex(sx, sy) {
    let best = null;
    let bestD = 8;
    for (const name of ["body", "cement"]) {
      outlines[name].forEach((p, i) => {
        const [x, y] = screen(p);
        const d = Math.hypot(x - sx, y - sy);
        if (d < bestD) {
          best = { outline: name, index: i };
          bestD = d;
        }
      });
    }
    return best;
  }

  function describeOutline() {
    const box = $("outline-step");
    if (outlining === "body") {
      box.textContent = `Click around the vertebral body's edge (${outlines.body.length} points; 3 or more), then “Body done”.`;
    } else {
      box.textContent = `Click around the cement inside the body (${outlines.cement.length} points; 3 or more). Drag a point to correct it.`;
    }
  }

  function measureCement() {
    describeOutline();
    if (outlines.body.length < 3 || outlines.cement.length < 3) return;
    const started = performance.now();
    post("measure", cementFields()).then((result) => {
      window.kyphoTimings.push(performance.now() - started);
      const message = $("outline-message");
      const saveOutline = $("save-outline");
      if (!result.ok) {
        message.textContent = result.message;
        message.classList.remove("hidden");
        for (const id of ["c-area", "c-both", "c-grade"]) $(id).textContent = "—";
        $("c-note").textContent = "";
        if (saveOutline) saveOutline.disabled = true;
        return;
      }
      message.classList.add("hidden");
      const m = result.measures;
      const pct = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`);
      $("c-area").textContent = pct(m.area);
      $("c-both").textContent = `${pct(m.area_ap)} / ${pct(m.area_lat)}`;
      $("c-grade").textContent = m.grade || "not graded";
      $("c-note").textContent = m.note || "";
      if (saveOutline) saveOutline.disabled = Boolean(setup.outline_accepted);
    });
  }

  function cementFields() {
    return {
      kind: "cement",
      points: JSON.stringify(outlines),
      pattern: $("pattern").value,
      read: String(setup.read),
    };
  }

  function setMode(next) {
    mode = next;
    $("cement-panel").classList.toggle("hidden", mode !== "cement");
    $("landmark-panel").classList.toggle("hidden", mode !== "landmarks");
    if (mode === "cement") measureCement();
    draw();
  }

  function grouped() {
    const out = [];
    for (let v = 0; v < setup.vertebrae.length; v++) out.push(points.slice(v * PER, v * PER + PER));
    return out;
  }

  function post(path, fields) {
    const body = new URLSearchParams({ csrf: csrf, ...fields });
    return fetch(`/films/${setup.sha}/${path}`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      body: body,
      credentials: "same-origin",
    }).then((r) => r.json());
  }

  function fields() {
    const out = { points: JSON.stringify(grouped()), read: String(setup.read) };
    if (calibration) out.calibration = JSON.stringify(calibration);
    return out;
  }

  function show(result) {
    const message = $("message");
    const save = $("save");
    if (!result.ok) {
      message.textContent = result.message;
      message.classList.remove("hidden");
      for (const cell of document.querySelectorAll("table.measures td")) cell.textContent = "—";
      if (save) save.disabled = true;
      return;
    }
    message.classList.add("hidden");
    const m = result.measures;
    for (const v of setup.vertebrae) {
      for (const h of ["anterior", "middle", "posterior"]) {
        $(`h-${v}-${h}`).textContent = m[`height_${v}_${h}`].toFixed(2);
      }
    }
    $("m-anterior_ratio").textContent = `${m.anterior_ratio.toFixed(2)} %`;
    $("m-middle_ratio").textContent = `${m.middle_ratio.toFixed(2)} %`;
    $("m-wedge_angle_deg").textContent = `${m.wedge_angle_deg.toFixed(2)}°`;
    $("m-genant").textContent = m.genant;
    $("pixel-size").textContent = pixelText([m.pixel_column_mm, m.pixel_row_mm, m.pixel_size_source]);
    if (save) save.disabled = setup.accepted !== null && setup.accepted !== undefined;
  }

  function measure() {
    if (points.length < N) {
      for (const cell of document.querySelectorAll("table.measures td")) cell.textContent = "—";
      return;
    }
    if (inFlight) {
      pending = true;
      return;
    }
    inFlight = true;
    const started = performance.now();
    post("measure", fields())
      .then((result) => {
        const took = performance.now() - started;
        window.kyphoTimings.push(took);
        $("timing").textContent = `Recomputed by the server in ${took.toFixed(0)} ms.`;
        show(result);
      })
      .finally(() => {
        inFlight = false;
        if (pending) {
          pending = false;
          measure();
        }
      });
  }

  function pixelText(p) {
    if (!p || p[0] === null || p[0] === undefined) return "The file states none: calibrate by a known length.";
    const source = p[2] === "calibration" ? "calibrated by a known length" : `from ${p[2]}`;
    const mm = (v) => String(Number(Number(v).toPrecision(4)));
    return p[0] === p[1]
      ? `${mm(p[0])} mm per pixel (${source})`
      : `${mm(p[0])} × ${mm(p[1])} mm per pixel (${source})`;
  }

  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("mousedown", (event) => {
    const [x, y, sx, sy] = toImage(event);
    if (event.button === 2 || event.shiftKey) {
      drag = { pan: true, sx: sx, sy: sy, panX: panX, panY: panY };
      return;
    }
    if (mode === "cement") {
      const vertex = editable ? nearestVertex(sx, sy) : null;
      if (vertex) {
        drag = vertex;
        return;
      }
      if (editable) {
        outlines[outlining].push([x, y]);
        draw();
        measureCement();
      }
      return;
    }
    if (calibrating) {
      if (calibrating.length < 2) calibrating.push([x, y]);
      $("calibration-step").textContent =
        calibrating.length < 2 ? "Click the other end." : "Enter the true length and press “Use this length”.";
      draw();
      return;
    }
    const hit = editable ? nearest(sx, sy) : -1;
    if (hit >= 0) {
      drag = { point: hit };
      return;
    }
    if (editable && points.length < N) {
      points.push([x, y]);
      draw();
      measure();
    }
  });
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const [x, y, sx, sy] = toImage(event);
    if (drag.pan) {
      panX = drag.panX + (sx - drag.sx);
      panY = drag.panY + (sy - drag.sy);
    } else if (drag.outline) {
      outlines[drag.outline][drag.index] = [x, y];
    } else {
      points[drag.point] = [x, y];
      measure();
    }
    draw();
  });
  window.addEventListener("mouseup", () => {
    if (drag && drag.outline) measureCement();
    else if (drag && !drag.pan) measure();
    drag = null;
  });
  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const [x, y, sx, sy] = toImage(event);
      zoom *= event.deltaY < 0 ? 1.25 : 0.8;
      panX = sx - x * zoom;
      panY = sy - y * zoom;
      draw();
    },
    { passive: false }
  );
  $("fit").addEventListener("click", fit);
  $("one").addEventListener("click", oneToOne);
  $("zoom-in").addEventListener("click", () => {
    zoom *= 1.25;
    centre();
    draw();
  });
  $("zoom-out").addEventListener("click", () => {
    zoom *= 0.8;
    centre();
    draw();
  });
  const levelBox = $("level");
  const widthBox = $("window");
  levelBox.max = String(setup.max);
  widthBox.max = String(Math.max(setup.max, 1));
  function syncWindow() {
    levelBox.value = String(level);
    widthBox.value = String(windowWidth);
  }
  levelBox.addEventListener("input", () => {
    level = Number(levelBox.value);
    paint();
  });
  widthBox.addEventListener("input", () => {
    windowWidth = Math.max(1, Number(widthBox.value));
    paint();
  });
  $("reset-wl").addEventListener("click", () => {
    level = setup.center;
    windowWidth = setup.width;
    syncWindow();
    paint();
  });
  $("undo").addEventListener("click", () => {
    points.pop();
    draw();
    measure();
  });
  $("clear").addEventListener("click", () => {
    points = [];
    draw();
    measure();
  });
  $("calibrate").addEventListener("click", () => {
    calibrating = [];
    $("calibration-box").classList.remove("hidden");
    $("calibration-step").textContent = "Click one end of a known length on the film.";
    draw();
  });
  $("calibration-apply").addEventListener("click", () => {
    const mm = Number($("calibration-mm").value.replace(",", "."));
    if (!calibrating || calibrating.length < 2 || !(mm > 0)) {
      $("calibration-step").textContent = "Click both ends, then enter a length in mm above 0.";
      return;
    }
    calibration = [calibrating[0][0], calibrating[0][1], calibrating[1][0], calibrating[1][1], mm];
    calibrating = null;
    $("calibration-box").classList.add("hidden");
    $("pixel-size").textContent = "Calibrated: the server computes the pixel size with the next measure.";
    draw();
    measure();
  });
  const saveButton = $("save");
  const acceptButton = $("accept");
  if (saveButton) {
    saveButton.addEventListener("click", () => {
      post("save", fields()).then((result) => {
        if (!result.ok) {
          show(result);
          return;
        }
        readId = result.read_id;
        $("status").textContent = `Read saved (read number ${readId}).`;
        acceptButton.disabled = false;
      });
    });
    acceptButton.disabled = readId === null || readId === undefined || Boolean(setup.accepted);
    acceptButton.addEventListener("click", () => {
      post("accept", { read_id: String(readId) }).then((result) => {
        if (!result.ok) {
          $("status").textContent = result.message;
          return;
        }
        acceptButton.disabled = true;
        saveButton.disabled = true;
        setup.accepted = "now";
        const status = $("status");
        status.textContent = `Accepted into record ${result.record} (now version ${result.version}). `;
        const link = document.createElement("a");
        link.href = result.url;
        link.textContent = "Open the record";
        status.appendChild(link);
      });
    });
  }
  if (setup.accepted) $("status") && ($("status").textContent = `This read was accepted into the record on ${setup.accepted.slice(0, 16)}.`);
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => setMode(radio.value));
  }
  $("outline-next").addEventListener("click", () => {
    if (outlines.body.length >= 3) outlining = "cement";
    describeOutline();
  });
  $("outline-clear").addEventListener("click", () => {
    outlines = { body: [], cement: [] };
    outlining = "body";
    draw();
    measureCement();
  });
  $("pattern").value = setup.outline_pattern || "";
  $("pattern").addEventListener("change", measureCement);
  const saveOutline = $("save-outline");
  const acceptOutline = $("accept-outline");
  if (saveOutline) {
    acceptOutline.disabled = !outlineId || Boolean(setup.outline_accepted);
    saveOutline.addEventListener("click", () => {
      post("save", cementFields()).then((result) => {
        if (!result.ok) {
          $("outline-status").textContent = result.message;
          return;
        }
        outlineId = result.read_id;
        $("outline-status").textContent = `Outlines saved (read number ${outlineId}).`;
        acceptOutline.disabled = false;
      });
    });
    acceptOutline.addEventListener("click", () => {
      post("accept", { read_id: String(outlineId) }).then((result) => {
        const status = $("outline-status");
        if (!result.ok) {
          status.textContent = result.message;
          return;
        }
        acceptOutline.disabled = true;
        saveOutline.disabled = true;
        setup.outline_accepted = "now";
        status.textContent = `Accepted into record ${result.record} (now version ${result.version}).`;
      });
    });
  }
  $("pixel-size").textContent = pixelText(setup.pixel);
  syncWindow();
  zoom = Math.min(1, W / cols, H / rows);
  centre();
  describeNext();
  fetch(`/films/${setup.sha}/pixels`, { credentials: "same-origin" })
    .then((r) => r.arrayBuffer())
    .then((buffer) => {
      values = new Uint16Array(buffer);
      paint();
      root.dataset.ready = "yes";
      setMode(mode);
      measure();
    });
})();
