// スマホ入場: the phone's passkey (registration) and its taps at the site's gate code.
// A tap is signed by the passkey over its own text (the challenge is the text's SHA-256), kept
// in localStorage until the server has answered, and sent again when the phone is back online.
"use strict";

const STORE_CREDENTIAL = "ledger.phone.credential";
const STORE_SEQUENCE = "ledger.phone.sequence";
const STORE_QUEUE = "ledger.phone.queue";

function toB64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function sha256(text) {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

async function readerId(credentialId) {
  const hex = Array.from(new Uint8Array(await sha256(credentialId)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return "phone-" + hex.slice(0, 16);
}

function say(element, text, ok) {
  element.textContent = text;
  element.className = ok ? "ok" : "error";
}

// -- registration (the employer or an administrator, on the worker's phone) ------------------
async function register(form) {
  const result = document.getElementById("phone-register-result");
  const options = JSON.parse(document.getElementById("passkey-options").textContent);
  options.challenge = fromB64url(options.challenge);
  options.user.id = fromB64url(options.user.id);
  for (const c of options.excludeCredentials || []) c.id = fromB64url(c.id);
  try {
    const made = await navigator.credentials.create({ publicKey: options });
    const credential = {
      id: made.id, rawId: toB64url(made.rawId), type: made.type,
      response: {
        clientDataJSON: toB64url(made.response.clientDataJSON),
        attestationObject: toB64url(made.response.attestationObject),
      },
    };
    const answer = await fetch(location.pathname, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ credential, csrf_token: form.elements.csrf_token.value }),
    });
    const body = await answer.json();
    if (!answer.ok) return say(result, "登録できませんでした: " + body.detail, false);
    localStorage.setItem(STORE_CREDENTIAL, credential.rawId);
    say(result, "登録しました（" + body.reader_id + "）", true);
  } catch (error) {
    say(result, "登録できませんでした: " + error.message, false);
  }
}

// -- taps ------------------------------------------------------------------------------------
function queue() {
  return JSON.parse(localStorage.getItem(STORE_QUEUE) || "[]");
}

function showPending() {
  const pending = document.getElementById("phone-pending");
  const count = queue().length;
  pending.textContent = count ? "未送信の打刻 " + count + " 件（電波が戻ると送ります）" : "";
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude,
                       accuracy: p.coords.accuracy }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
  });
}

function describe(receipt) {
  const names = { printed_code: "印刷コード", outside_area: "現場の範囲外",
                  no_position: "位置情報なし" };
  const what = receipt.direction === "in" ? "入場" : "退場";
  const flags = receipt.flags.map((f) => names[f] || f);
  if (receipt.status === "duplicate") return what + "は記録済みです";
  return what + "を記録しました" + (flags.length ? "（" + flags.join("、") + "）" : "");
}

let flushing = false;  // one sender at a time (a resend would only be answered "duplicate")

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    await send();
  } finally {
    flushing = false;
  }
}

async function send() {
  const result = document.getElementById("phone-tap-result");
  let items = queue();
  while (items.length) {
    const item = items[0];
    let answer;
    try {
      answer = await fetch("/app/phone/taps", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...item, sent_at: new Date().toISOString() }),
      });
    } catch (error) {
      say(result, "電波がありません。打刻は保存しました。", false);
      return showPending();
    }
    const body = await answer.json();
    items = queue().filter((kept) => kept.payload !== item.payload);  // answered: done
    localStorage.setItem(STORE_QUEUE, JSON.stringify(items));
    if (answer.ok) say(result, describe(body), body.flags.length === 0);
    else say(result, "記録できませんでした: " + body.detail, false);
  }
  showPending();
}

async function tap(form, direction, scannedAt) {
  const result = document.getElementById("phone-tap-result");
  const credentialId = localStorage.getItem(STORE_CREDENTIAL);
  if (!credentialId) return say(result, "このスマホは登録されていません", false);
  const sequence = Number(localStorage.getItem(STORE_SEQUENCE) || "0") + 1;
  localStorage.setItem(STORE_SEQUENCE, String(sequence));
  const payload = JSON.stringify({
    tap_id: (await readerId(credentialId)) + ":" + sequence,
    code: form.elements.code.value.trim(), direction,
    scanned_at: scannedAt.toISOString(), position: await position(),
  });
  try {
    const signed = await navigator.credentials.get({ publicKey: {
      challenge: await sha256(payload), rpId: location.hostname, userVerification: "required",
      allowCredentials: [{ type: "public-key", id: fromB64url(credentialId) }],
    } });
    const credential = {
      id: signed.id, rawId: toB64url(signed.rawId), type: signed.type,
      response: {
        clientDataJSON: toB64url(signed.response.clientDataJSON),
        authenticatorData: toB64url(signed.response.authenticatorData),
        signature: toB64url(signed.response.signature),
      },
    };
    localStorage.setItem(STORE_QUEUE, JSON.stringify([...queue(), { payload, credential }]));
  } catch (error) {
    return say(result, "本人確認できませんでした: " + error.message, false);
  }
  form.elements.code.value = "";
  await flush();
}

async function scanWithCamera(form, video) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return say(document.getElementById("phone-tap-result"),
               "この端末ではカメラで読み取れません。コードを入力してください。", false);
  }
  const detector = new BarcodeDetector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const look = async () => {
    const found = await detector.detect(video);
    if (found.length) {
      form.elements.code.value = found[0].rawValue;
      form.dataset.scannedAt = new Date().toISOString();
      stream.getTracks().forEach((t) => t.stop());
      video.hidden = true;
      return;
    }
    requestAnimationFrame(look);
  };
  look();
}

document.addEventListener("DOMContentLoaded", () => {
  const registration = document.getElementById("phone-register");
  if (registration) {
    registration.addEventListener("submit", (event) => {
      event.preventDefault();
      register(registration);
    });
  }
  const form = document.getElementById("phone-tap");
  if (form) {
    form.elements.code.addEventListener("input", () => {
      form.dataset.scannedAt = new Date().toISOString();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const scannedAt = form.dataset.scannedAt ? new Date(form.dataset.scannedAt) : new Date();
      delete form.dataset.scannedAt;
      tap(form, event.submitter.value, scannedAt);
    });
    document.getElementById("scan").addEventListener("click", () => {
      scanWithCamera(form, document.getElementById("camera"));
    });
    window.addEventListener("online", flush);
    flush();
  }
});
