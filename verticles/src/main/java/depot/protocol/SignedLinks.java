package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Short-lived signed links that let a client read a replica from, or upload a deposit to, a storage node
 * directly (as WebHDFS redirects to a DataNode), sparing the gateway hop. A download link names the blob
 * and an expiry; an upload ticket carries the whole allocation ({@link UploadTickets}). The HMAC uses a key
 * every node of the cluster shares: the cluster secret if one is set, else a random key created once in a
 * cluster-wide map.
 */
public final class SignedLinks {
  private static final String KEYS_MAP = "depot.keys";
  private static final String KEY_NAME = "download";
  private static final long VALIDITY_MS = 60_000;

  private final byte[] key;

  private SignedLinks(byte[] key) {
    this.key = key;
  }

  public static Future<SignedLinks> load(Vertx vertx, String clusterSecret) {
    if (clusterSecret != null && !clusterSecret.isEmpty()) {
      return Future.succeededFuture(new SignedLinks(clusterSecret.getBytes(StandardCharsets.UTF_8)));
    }
    byte[] fresh = new byte[32];
    new SecureRandom().nextBytes(fresh);
    return vertx.sharedData().<String, String>getAsyncMap(KEYS_MAP)
        .compose(map -> map.putIfAbsent(KEY_NAME, Base64.getEncoder().encodeToString(fresh))
            .map(existing -> new SignedLinks(existing != null ? Base64.getDecoder().decode(existing) : fresh)));
  }

  /** The query string ({@code exp=..&sig=..}) of a link to {@code blobId}, valid for a minute. */
  public String query(String blobId, long now) {
    long expires = now + VALIDITY_MS;
    return "exp=" + expires + "&sig=" + sign(blobId, expires);
  }

  public boolean valid(String blobId, String expires, String signature, long now) {
    if (blobId == null || expires == null || signature == null) {
      return false;
    }
    long exp;
    try {
      exp = Long.parseLong(expires);
    } catch (NumberFormatException e) {
      return false;
    }
    return exp >= now && verify(blobId + "." + exp, signature);
  }

  private String sign(String blobId, long expires) {
    return sign(blobId + "." + expires);
  }

  /** The HMAC-SHA256 of {@code message} under the cluster's key, base64url. */
  public String sign(String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] sig = mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** Whether {@code signature} is {@link #sign(String)} of {@code message}, compared in constant time. */
  public boolean verify(String message, String signature) {
    return signature != null && MessageDigest.isEqual(sign(message).getBytes(StandardCharsets.US_ASCII),
        signature.getBytes(StandardCharsets.US_ASCII));
  }
}
