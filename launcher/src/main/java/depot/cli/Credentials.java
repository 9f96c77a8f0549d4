package depot.cli;

import io.vertx.core.json.JsonObject;

/** What {@code depot login} remembers: which server, which client, and the client's bearer token. */
public record Credentials(String server, String clientId, String token, String nickname) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("server", server)
        .put("clientId", clientId)
        .put("token", token)
        .put("nickname", nickname);
  }

  public static Credentials fromJson(JsonObject json) {
    return new Credentials(json.getString("server"), json.getString("clientId"),
        json.getString("token"), json.getString("nickname"));
  }
}
