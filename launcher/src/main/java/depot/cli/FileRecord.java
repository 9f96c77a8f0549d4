package depot.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * A deposited file as the server describes it. Expected fields: {@code name, size, sha256, version,
 * desiredReplicas, liveReplicas, nodes: [nodeId...], depositedAt}. The reader is deliberately lenient
 * (replicas as a number or as {live, desired}; nodes as ids or objects with an id) so that small
 * differences in the server's JSON degrade the display instead of breaking the CLI.
 */
public record FileRecord(String name, long size, String sha256, long version,
                         int liveReplicas, int desiredReplicas, List<String> nodes, Object depositedAt) {

  public static FileRecord fromJson(JsonObject o) {
    List<String> nodes = nodeIds(first(o, "nodes", "replicaNodes", "locations"));
    int desired = -1;
    int live = -1;
    Object replicas = o.getValue("replicas");
    if (replicas instanceof JsonObject r) {
      desired = intOf(first(r, "desired", "target"), -1);
      live = intOf(first(r, "live", "current", "actual"), -1);
    } else {
      desired = intOf(replicas, -1);
    }
    desired = intOf(first(o, "desiredReplicas", "replicasDesired"), desired);
    live = intOf(first(o, "liveReplicas", "replicasLive"), live);
    if (live < 0 && nodes != null) {
      live = nodes.size();
    }
    return new FileRecord(
        o.getString("name"),
        longOf(o.getValue("size"), -1),
        stringOf(first(o, "sha256", "hash")),
        longOf(o.getValue("version"), -1),
        live, desired,
        nodes == null ? List.of() : nodes,
        first(o, "depositedAt", "deposited", "createdAt", "updatedAt"));
  }

  /** The first 12 hex digits: enough to tell contents apart at a glance. */
  public String shortSha() {
    return sha256 == null ? "-" : sha256.substring(0, Math.min(12, sha256.length()));
  }

  /** "2/3"; "?" stands for a count the server did not report. */
  public String replicasText() {
    return (liveReplicas < 0 ? "?" : String.valueOf(liveReplicas)) + "/"
        + (desiredReplicas < 0 ? "?" : String.valueOf(desiredReplicas));
  }

  /**
   * For a file with fewer live copies than asked for (a storage node down, or too few to place them on): what
   * to tell the user, who might otherwise take the count for a failure or not notice it; null when all exist.
   */
  public String missingReplicasWarning(String fallbackName) {
    if (liveReplicas < 0 || desiredReplicas < 0 || liveReplicas >= desiredReplicas) {
      return null;
    }
    int missing = desiredReplicas - liveReplicas;
    return "only " + liveReplicas + " of the " + desiredReplicas + " replicas of " + (name != null ? name : fallbackName)
        + " exist now; the cluster makes the other " + (missing == 1 ? "one as soon as a storage node can take it"
        : missing + " as soon as storage nodes can take them");
  }

  public String versionText() {
    return version < 0 ? "?" : String.valueOf(version);
  }

  private static Object first(JsonObject o, String... keys) {
    for (String key : keys) {
      Object v = o.getValue(key);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static List<String> nodeIds(Object value) {
    if (!(value instanceof JsonArray array)) {
      return null;
    }
    List<String> ids = new ArrayList<>();
    for (Object item : array) {
      if (item instanceof JsonObject node) {
        Object id = first(node, "id", "nodeId", "node");
        ids.add(String.valueOf(id));
      } else if (item != null) {
        ids.add(item.toString());
      }
    }
    return ids;
  }

  private static int intOf(Object v, int fallback) {
    return v instanceof Number n ? n.intValue() : fallback;
  }

  private static long longOf(Object v, long fallback) {
    return v instanceof Number n ? n.longValue() : fallback;
  }

  private static String stringOf(Object v) {
    return v == null ? null : v.toString();
  }
}
