package depot.coordinator;

import io.vertx.core.json.JsonObject;

/** A storage node as the coordinator sees it, from the directory's node list. */
record StorageNode(String id, String host, String url, boolean up, long diskFree) {

  static StorageNode fromDirectory(JsonObject node) {
    String url = node.getJsonObject("endpoints", new JsonObject()).getString("storage");
    return new StorageNode(node.getString("id"), node.getString("host", ""), url,
        "UP".equals(node.getString("status")), node.getLong("diskFree", 0L));
  }
}
