package depot.gateway;

import depot.protocol.DepotException;
import depot.protocol.Headers;
import depot.protocol.SignedLinks;
import depot.protocol.Tokens;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id and token a registration ({@code POST /api/v1/clients}) gets. Without an {@code Idempotency-Key}
 * they are random. With one they are derived from it under the cluster's key (HMAC-SHA256), so a client that
 * sends its registration again after losing the answer (a coordinator failover, a cut connection) gets the
 * same client back instead of a second one. A key answers with its token only for {@link #REPLAY_WINDOW}:
 * after that, whoever learns an old key learns nothing from it.
 */
final class ClientCredentials {
  static final Duration REPLAY_WINDOW = Duration.ofMinutes(10);
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{16,128}");

  record Issued(String clientId, String token) {}

  private ClientCredentials() {}

  static Issued fresh() {
    return new Issued(UUID.randomUUID().toString(), Tokens.newToken());
  }

  /** @throws DepotException 400 for a key that is not 16-128 letters, digits, '-' or '_' */
  static Issued forKey(SignedLinks clusterKey, String key) {
    if (!KEY.matcher(key).matches()) {
      throw DepotException.badRequest(Headers.IDEMPOTENCY_KEY + " must be 16-128 letters, digits, '-' or '_'");
    }
    // The prefixes keep these apart from the link signatures made with the same key (no ':' in theirs).
    String clientId = UUID.nameUUIDFromBytes(clusterKey.sign("client-id:" + key).getBytes(StandardCharsets.US_ASCII))
        .toString();
    return new Issued(clientId, clusterKey.sign("client-token:" + key));
  }

  /** Whether a client registered at {@code createdAt} may be answered again, token included, at {@code now}. */
  static boolean replayable(String createdAt, Instant now) {
    if (createdAt == null) {
      return false;
    }
    try {
      return Duration.between(Instant.parse(createdAt), now).compareTo(REPLAY_WINDOW) <= 0;
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
