package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Tells the leading coordinator that a storage node was lost on the data path ({@code
 * depot.coordinator.node.suspect}), so that new deposits are placed elsewhere while the directory still lists it.
 */
public final class SuspectReport {
  /** How long a reporter that waits for the coordinator to take the suspicion waits at most. */
  private static final long TIMEOUT_MS = 2000;

  private SuspectReport() {}

  /** Completes (never fails) once the coordinator has taken it, or could not be told (no leader right now). */
  public static Future<Void> send(Vertx vertx, String nodeId, String reason) {
    return vertx.eventBus().request(Addresses.COORDINATOR_NODE_SUSPECT,
            new JsonObject().put("node", nodeId).put("reason", reason), new DeliveryOptions().setSendTimeout(TIMEOUT_MS))
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }
}
