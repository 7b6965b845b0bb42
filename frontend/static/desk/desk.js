/* The agents' desk pages, live over /ws/agent/ (docs/protocol.md).
 *
 * The server renders each page from the database; these modules keep it current:
 * list.js the ticket list, ticket.js one ticket's conversation, side.js its side box.
 * Plain ES modules, no build step.
 */
import { body, start } from "./core.js";
import { ticketListPage } from "./list.js";
import { ticketDetailPage } from "./ticket.js";

const PAGES = { "ticket-list": ticketListPage, "ticket-detail": ticketDetailPage };
const page = PAGES[body.getAttribute("data-page")];
start(page ? page() : {});
