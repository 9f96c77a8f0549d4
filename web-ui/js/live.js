// Live updates: the SockJS event-bus bridge at /eventbus. The page only listens: the one address it may
// register on carries sanitized events (types, node ids, statuses, counts), used as "refresh now" signals.

export const LIVE_ADDRESS = 'depot.dashboard.events';

/**
 * Connects and keeps reconnecting. onEvent(body) per message; onState('open'|'closed').
 * Returns a function that disconnects for good.
 */
export function connectLive(onEvent, onState) {
  /* global EventBus */
  const eb = new EventBus('/eventbus');
  let stopped = false;
  eb.enableReconnect(true);
  // The client's default handlers print with console.error; a dropped socket is routine, it reconnects.
  eb.onerror = (err) => console.warn('event bus:', err && (err.message || err.type || err));
  eb.onopen = () => {
    eb.registerHandler(LIVE_ADDRESS, (err, msg) => {
      if (!err && msg && msg.body) onEvent(msg.body);
    });
    onState('open');
  };
  eb.onclose = () => {
    if (!stopped) onState('closed');
  };
  return () => {
    stopped = true;
    eb.enableReconnect(false);
    try {
      eb.close();
    } catch (e) {
      // already closed
    }
  };
}
