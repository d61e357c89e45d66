// tollgate Admin Console: copy buttons, and the token tester's in-browser signer (WebCrypto; the private
// key is made non-extractable and lives only in this page's memory).
"use strict";
(function () {
  function b64url(bytes) {
    let s = "";
    new Uint8Array(bytes).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function b64urlText(text) { return b64url(new TextEncoder().encode(text)); }

  document.addEventListener("click", function (ev) {
    const btn = ev.target.closest("button.copy");
    if (!btn) return;
    const src = document.getElementById(btn.dataset.copy);
    if (!src) return;
    const text = (src.value !== undefined ? src.value : src.textContent).trim();
    const done = function () { const was = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = was; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      const range = document.createRange(); range.selectNodeContents(src);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ }
    }
  });

  const signer = document.getElementById("browser-signer");
  if (!signer || !window.crypto || !crypto.subtle) return;
  let keyPair = null, kid = null;
  const out = document.getElementById("browser-key-out");
  const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

  document.getElementById("make-key").addEventListener("click", async function () {
    keyPair = await crypto.subtle.generateKey(alg, false, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
    kid = "browser-" + b64url(crypto.getRandomValues(new Uint8Array(9)));
    const pub = { kty: jwk.kty, e: jwk.e, n: jwk.n, kid: kid, alg: "RS256", use: "sig" };
    const text = JSON.stringify(pub, null, 2);
    document.getElementById("browser-jwk").value = text;
    document.getElementById("browser-add-key").value = text;
    out.hidden = false;
  });

  const addForm = document.getElementById("browser-add");
  if (addForm) addForm.addEventListener("submit", async function (ev) {
    // Added without leaving the page, so the browser key is kept.
    ev.preventDefault();
    const body = new URLSearchParams(new FormData(addForm));
    const resp = await fetch(addForm.action, { method: "POST", body: body, credentials: "same-origin" });
    const note = document.createElement("p");
    note.setAttribute("role", "status");
    note.className = resp.ok && !resp.url.includes("error=") ? "notice" : "error";
    note.textContent = note.className === "notice" ? "Public key added to the app." : "The key was not added (see the General tab).";
    addForm.after(note);
  });

  document.getElementById("sign-assertion").addEventListener("click", async function () {
    if (!keyPair) return;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", kid: kid, typ: "JWT" };
    const claims = { iss: signer.dataset.clientId, sub: signer.dataset.clientId, aud: signer.dataset.tokenUrl, iat: now, exp: now + 300, jti: crypto.randomUUID ? crypto.randomUUID() : b64url(crypto.getRandomValues(new Uint8Array(16))) };
    const input = b64urlText(JSON.stringify(header)) + "." + b64urlText(JSON.stringify(claims));
    const sig = await crypto.subtle.sign(alg.name, keyPair.privateKey, new TextEncoder().encode(input));
    document.getElementById("assertion").value = input + "." + b64url(sig);
    document.getElementById("assertion").focus();
  });
})();
