/* The agents' desk pages, live over /ws/agent/ (docs/protocol.md).
 *
 * The server renders each page from the database; these modules keep it current:
 * list.js the ticket list, ticket.js one ticket's conversation, side.js its side box,
 * sla.js the SLA countdowns on any page.
 * Plain ES modules, no build step.
 */
import { body, start } from "./core.js";
import { ticketListPage } from "./list.js";
import { slaClocks, slaUpdate } from "./sla.js";
import { ticketDetailPage } from "./ticket.js";

const PAGES = { "ticket-list": ticketListPage, "ticket-detail": ticketDetailPage };
const page = PAGES[body.getAttribute("data-page")];
const handlers = page ? page() : {};
// Every page's countdowns tick, and `ticket` frames move them (lists also re-render their rows).
const onTicket = handlers.ticket;
handlers.ticket = (frame) => {
  slaUpdate(frame.ticket);
  if (onTicket) onTicket(frame);
};
slaClocks(document);
start(handlers);
