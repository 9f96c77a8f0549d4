package depot.coordinator;

import io.vertx.core.json.JsonObject;

/** A registered client: the id issued on first contact, its nickname, and the hash of its token. */
public record ClientEntry(String clientId, String nickname, String tokenHash, String createdAt) {

  public JsonObject toJson() {
    return new JsonObject().put("clientId", clientId).put("nickname", nickname).put("createdAt", createdAt);
  }
}
