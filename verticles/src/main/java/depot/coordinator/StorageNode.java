package depot.coordinator;

import io.vertx.core.json.JsonObject;

/**
 * A storage node as the coordinator sees it, from the directory's node list: {@code diskFree} is the free
 * space of its disk, {@code used} the bytes of replicas it holds, {@code heapFull} that its heap (where its
 * replica index lives) is too full for new replicas.
 */
record StorageNode(String id, String host, String url, boolean up, long diskFree, long used, boolean heapFull) {

  StorageNode(String id, String host, String url, boolean up, long diskFree, long used) {
    this(id, host, url, up, diskFree, used, false);
  }

  static StorageNode fromDirectory(JsonObject node) {
    String url = node.getJsonObject("endpoints", new JsonObject()).getString("storage");
    return new StorageNode(node.getString("id"), node.getString("host", ""), url,
        "UP".equals(node.getString("status")), node.getLong("diskFree", 0L), node.getLong("diskUsed", 0L),
        node.getBoolean("heapFull", false));
  }

  /** The same node with {@code bytes} more placed on it than its last heartbeat reported. */
  StorageNode withPlaced(long bytes) {
    return new StorageNode(id, host, url, up, diskFree - bytes, used + bytes, heapFull);
  }

  StorageNode down() {
    return new StorageNode(id, host, url, false, diskFree, used, heapFull);
  }
}
