/* Sentiment on the ticket page: each customer message's mood tag with one-click
 * corrections, and the conversation's mood in the side box. Tags arrive after
 * the message (the model runs in the worker): a `sentiment` ticket event makes
 * the page re-read them from the ticket API. */
import { $, callApi, el, showError } from "./core.js";

const TEXT = { negative: "Negative", neutral: "Neutral", positive: "Positive" };
const FACE = { negative: "☹", neutral: "😐", positive: "☺" };
const TREND = { improving: "↗ improving", worsening: "↘ worsening", steady: "→ steady" };

// The tag of a customer message drawn live; the server renders the same (_sentiment_tag.html).
export function moodTag(seq) {
  const fix = el("span", { class: "mood-fix", role: "group", "aria-label": "Correct the mood of this message" });
  for (const label of Object.keys(TEXT)) {
    fix.append(
      el(
        "button",
        { type: "button", "data-label": label, "aria-pressed": "false", title: `Mark ${label}` },
        el("span", { "aria-hidden": "true", text: FACE[label] }),
        el("span", { class: "sr-only", text: `Mark ${label}` }),
      ),
    );
  }
  return el(
    "span",
    { class: "mood", "data-testid": "sentiment-tag", "data-seq": seq ? String(seq) : "", "data-sentiment": "pending", "data-corrected": "false" },
    el("span", { class: "mood-label", title: "Waiting for the sentiment model", text: "Mood pending" }),
    fix,
  );
}

function showTag(node, m) {
  const label = m.sentiment_corrected || m.sentiment || "pending";
  node.setAttribute("data-sentiment", label);
  node.setAttribute("data-corrected", m.sentiment_corrected ? "true" : "false");
  const text = $(".mood-label", node);
  text.textContent = TEXT[label] ? TEXT[label] + (m.sentiment_corrected ? " (corrected)" : "") : "Mood pending";
  text.title = m.sentiment_corrected
    ? `Corrected by an agent; the model said ${TEXT[m.sentiment] || "nothing yet"}`
    : m.sentiment
      ? `${m.sentiment_model}: ${Number(m.sentiment_confidence || 0).toFixed(2)}`
      : "Waiting for the sentiment model";
  for (const button of node.querySelectorAll("button[data-label]")) {
    button.setAttribute("aria-pressed", button.getAttribute("data-label") === label ? "true" : "false");
  }
}

function showMood(t) {
  const box = $('[data-testid="ticket-mood"]');
  if (!box || t.sentiment === undefined) return;
  const label = t.sentiment || "pending";
  box.setAttribute("data-sentiment", label);
  box.setAttribute("data-trend", t.sentiment_trend || "");
  const pill = $(".mood-pill", box);
  pill.setAttribute("data-sentiment", label);
  pill.textContent = TEXT[label] || "Not tagged yet";
  $(".mood-trend", box).textContent = TREND[t.sentiment_trend] || "";
  if (t.sentiment_recovered_at !== undefined) $('[data-testid="mood-recovered"]', box).hidden = !t.sentiment_recovered_at;
}

export function moodTags(TICKET, conversation) {
  const API = `/api/v1/tickets/${TICKET}/`;
  let reading = null;

  // Re-read every tag and the mood; bursts of events share one read.
  function refresh() {
    if (reading) return reading;
    reading = (async () => {
      try {
        const answer = await callApi("GET", API);
        if (!answer.ok) return;
        for (const m of answer.data.messages || []) {
          const node = $(`[data-testid="sentiment-tag"][data-seq="${Number(m.seq)}"]`, conversation);
          if (node) showTag(node, m);
        }
        showMood(answer.data);
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  conversation.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest(".mood-fix button[data-label]") : null;
    if (!button) return;
    const tag = button.closest('[data-testid="sentiment-tag"]');
    const seq = Number(tag.getAttribute("data-seq"));
    if (!seq) return;
    button.disabled = true;
    try {
      const answer = await callApi("POST", `${API}messages/${seq}/sentiment/`, { label: button.getAttribute("data-label") });
      if (answer.ok) {
        showTag(tag, answer.data);
        refresh(); // the conversation's mood follows the correction
      } else {
        showError((answer.data && (answer.data.label || answer.data.message || answer.data.detail)) || "The correction was not saved.");
      }
    } catch (e) {
      showError("The desk could not be reached. Try again.");
    } finally {
      button.disabled = false;
    }
  });

  return {
    // A live `ticket` event for this ticket.
    onTicketEvent(event) {
      showMood(event.ticket);
      if (event.change === "sentiment") refresh();
    },
    refresh,
  };
}
