package depot.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Permission to upload one allocated deposit straight to the head of its pipeline (WebHDFS's two-step
 * create: the gateway answers 307 and the client sends the body to a storage node). The ticket carries what
 * the head needs to finish the deposit without the gateway: the deposit as the client described it, the
 * allocation, and an expiry, all signed with the cluster's key. Tickets are valid for a minute.
 */
public final class UploadTickets {
  public static final long VALIDITY_MS = 60_000;

  private final SignedLinks keys;

  public UploadTickets(SignedLinks keys) {
    this.keys = keys;
  }

  /** The query string ({@code t=..&sig=..}) of the upload link for {@code deposit} and {@code allocation}. */
  public String query(JsonObject deposit, JsonObject allocation, long now) {
    JsonObject ticket = new JsonObject().put("deposit", deposit).put("allocation", allocation)
        .put("exp", now + VALIDITY_MS);
    String payload = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(ticket.encode().getBytes(StandardCharsets.UTF_8));
    return "t=" + payload + "&sig=" + keys.sign(payload);
  }

  /** The ticket's content, if it is genuine, unexpired and for {@code blobId}; else FORBIDDEN. */
  public JsonObject open(String payload, String signature, String blobId, long now) {
    if (payload == null || !keys.verify(payload, signature)) {
      throw new DepotException(ErrorCode.FORBIDDEN, "this upload link is invalid");
    }
    JsonObject ticket;
    try {
      ticket = new JsonObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException e) {
      throw new DepotException(ErrorCode.FORBIDDEN, "this upload link is invalid");
    }
    if (ticket.getLong("exp", 0L) < now) {
      throw new DepotException(ErrorCode.FORBIDDEN, "this upload link has expired; deposit again");
    }
    JsonObject allocation = ticket.getJsonObject("allocation");
    if (allocation == null || ticket.getJsonObject("deposit") == null || !blobId.equals(allocation.getString("blobId"))) {
      throw new DepotException(ErrorCode.FORBIDDEN, "this upload link is for another deposit");
    }
    return ticket;
  }
}
