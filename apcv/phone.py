"""The patient's phone: a page standing for the application carte Vitale, for a trainer's
projector or a developer's second screen. It shows the patient's QR code (apcv.qr, rendered by
segno as SVG), fetches a fresh one before the current one expires, lists who the card carries,
and has an "NFC" button that pushes the card to the pending slot the next
`authentifierUtilisateurProximite` without `Donnees` takes (of the professional typed, or of any).

Served by the console at `/apcv/phone?patient=<id or INS>` (apcv/pages); the page itself talks
to the control API (`/_sandbox/apcv/qr.json`, `/_sandbox/apcv/nfc`).
"""

from __future__ import annotations

import json
from html import escape
from string import Template

PAGE = Template("""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Appli carte Vitale — $name</title>
<style>
 :root { color-scheme: light; }
 body { margin: 0; font-family: system-ui, sans-serif; background: #0b3d6e; color: #102a43;
        display: flex; justify-content: center; min-height: 100vh; }
 .phone { background: #fff; width: min(94vw, 30rem); margin: 2vh 0; border-radius: 2rem;
          padding: 1.5rem; box-shadow: 0 0 2rem rgba(0,0,0,.4); text-align: center; }
 h1 { font-size: 1.6rem; margin: .2rem 0 1rem; color: #0b3d6e; }
 .who { font-size: 1.4rem; font-weight: 700; }
 #qr { width: 100%; max-width: 24rem; aspect-ratio: 1; margin: 1rem auto; background: #fff; }
 #qr svg, #qr img { width: 100%; height: 100%; image-rendering: pixelated; }
 #validite { font-size: 1.2rem; }
 ul { text-align: left; font-size: 1.1rem; }
 button { font-size: 1.4rem; padding: .8rem 2rem; border-radius: 1rem; border: 0; background: #0b6e4f;
          color: #fff; cursor: pointer; margin-top: .5rem; }
 input { font-size: 1.1rem; padding: .4rem; width: 12rem; }
 .message { font-size: 1.2rem; font-weight: 600; min-height: 1.5rem; }
 .erreur { color: #b00020; }
</style>
</head>
<body>
<main class="phone">
 <h1>Appli carte Vitale</h1>
 <div class="who">$name</div>
 <div id="etat">$state</div>
 <div id="qr" role="img" aria-label="QR code de l'application carte Vitale"></div>
 <div id="validite"></div>
 <h2>Bénéficiaires</h2>
 <ul>$beneficiaries</ul>
 <p><label>Professionnel (idNat_PS, facultatif) <input id="ps" autocomplete="off"></label></p>
 <button id="nfc" type="button">NFC</button>
 <p class="message" id="message" aria-live="polite"></p>
</main>
<script>
const CONFIG = $config;
let timer = null, remaining = 0;
function api(path) {
  return "/_sandbox/apcv/" + path + (path.includes("?") ? "&" : "?") + "patient=" + encodeURIComponent(CONFIG.patient)
    + "&tenant=" + encodeURIComponent(CONFIG.tenant);
}
async function refresh() {
  const box = document.getElementById("qr");
  const response = await fetch(api("qr.json"));
  const data = await response.json();
  if (!response.ok) {
    box.innerHTML = "";
    document.getElementById("validite").textContent = data.error;
    document.getElementById("validite").className = "erreur";
    return;
  }
  box.innerHTML = data.svg;
  box.dataset.payload = data.payload;
  remaining = data.expires_in;
  show();
  // a new code well before this one expires (a quarter of its life left)
  clearTimeout(timer);
  timer = setTimeout(refresh, Math.max(2, data.expires_in * 0.75) * 1000);
}
function show() {
  document.getElementById("validite").textContent = "QR code valable encore " + remaining + " s";
}
setInterval(() => {
  if (remaining > 0) remaining -= 1;
  if (CONFIG.active) show();
}, 1000);
document.getElementById("nfc").addEventListener("click", async () => {
  const message = document.getElementById("message");
  const ps = document.getElementById("ps").value.trim();
  const response = await fetch(api("nfc"), {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({patient: CONFIG.patient, ps: ps || null})});
  const data = await response.json();
  message.className = response.ok ? "message" : "message erreur";
  message.textContent = response.ok
    ? "Lecture NFC en attente pour " + (data.ps || "le prochain professionnel") + " (" + data.expires_in + " s)"
    : data.error;
});
if (CONFIG.active) refresh();
</script>
</body>
</html>
""")


def render(
    patient_id: str, tenant: str, name: str, beneficiaries: list[str], active: bool, state: str
) -> str:
    config = json.dumps({"patient": patient_id, "tenant": tenant, "active": active})
    return PAGE.substitute(
        name=escape(name),
        state=escape(state),
        beneficiaries="".join(f"<li>{escape(b)}</li>" for b in beneficiaries),
        config=config.replace("</", "<\\/"),
    )


def missing(message: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Patient inconnu</title></head>'
        f"<body><main><h1>Patient inconnu</h1><p>{escape(message)}</p></main></body></html>"
    )
