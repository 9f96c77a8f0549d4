package depot.protocol;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * A failure with a code the caller can act on. Crosses the event bus as a {@link ReplyException}
 * whose failure code is the HTTP status and whose message is {@code {"error":..,"message":..}}.
 */
public class DepotException extends RuntimeException {
  private final ErrorCode code;

  public DepotException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public JsonObject toJson() {
    return new JsonObject().put("error", code.code()).put("message", getMessage());
  }

  /** Fails an event-bus request with this error. */
  public void replyTo(Message<?> message) {
    message.fail(code.httpStatus(), toJson().encode());
  }

  public static DepotException badRequest(String message) {
    return new DepotException(ErrorCode.BAD_REQUEST, message);
  }

  public static DepotException notFound(String message) {
    return new DepotException(ErrorCode.NOT_FOUND, message);
  }

  /** Turns any failure (local or from the event bus) back into a DepotException. */
  public static DepotException from(Throwable t) {
    if (t instanceof DepotException de) {
      return de;
    }
    if (t instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new DepotException(ErrorCode.UNAVAILABLE, "service unavailable: " + re.getMessage());
      }
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return new DepotException(ErrorCode.UNAVAILABLE, "service timed out: " + re.getMessage());
      }
      String msg = re.getMessage();
      if (msg != null && msg.startsWith("{")) {
        try {
          JsonObject json = new JsonObject(msg);
          return new DepotException(ErrorCode.fromCode(json.getString("error")), json.getString("message"));
        } catch (DecodeException ignored) {
          // fall through
        }
      }
      return new DepotException(ErrorCode.INTERNAL, String.valueOf(msg));
    }
    return new DepotException(ErrorCode.INTERNAL, String.valueOf(t.getMessage() != null ? t.getMessage() : t));
  }
}
