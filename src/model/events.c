/* Names for the L1 event record (see events.h): the scope words every output
 * uses. Plain lookups, no state, nothing about how events are found. */
#include "src/model/events.h"

const char *ev_scope_name(ev_scope s) {
  static const char *const names[EV_SCOPE_COUNT] = {"gpu", "node", "rack", "job", "cluster"};
  return s >= 0 && s < EV_SCOPE_COUNT ? names[s] : "unknown";
}
