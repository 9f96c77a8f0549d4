package depot.cli;

import depot.protocol.Headers;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The Depot HTTP API as seen from the CLI: builds requests (HTTP/1.1, bearer token), sends them, and turns
 * transport failures and error responses into one-line {@link CliException}s.
 */
public final class ApiClient {
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** From this size on, a deposit asks to go straight to a storage node: below it the extra connection costs more. */
  public static final long DIRECT_UPLOAD_MIN_BYTES = 1 << 20;
  public static final String FILES = "/api/v1/files";
  public static final String CLIENTS = "/api/v1/clients";
  public static final String NODES = "/api/v1/nodes";
  public static final String SHA256_HEADER = Headers.SHA256;
  public static final String DEDUP_HEADER = Headers.DEDUP;
  /** Storage nodes this client lost while sending them a body: its next deposits ask to go elsewhere. */
  public static final String AVOID_HEADER = Headers.AVOID;
  /** On a registration: the same key on every try registers one client. */
  public static final String IDEMPOTENCY_KEY_HEADER = Headers.IDEMPOTENCY_KEY;
  private static final int MAX_ERROR_BODY = 64 * 1024;

  private final HttpClient http;
  private final URI base;
  private final String token;
  /** Base URLs of storage nodes a direct upload lost (this process's memory only: a node comes back). */
  private final Set<String> lostNodes = ConcurrentHashMap.newKeySet();

  public ApiClient(HttpClient http, URI base, String token) {
    this.http = http;
    this.base = base;
    this.token = token;
  }

  public ApiClient(URI base, String token) {
    this(newHttpClient(null), base, token);
  }

  /** HTTP/1.1 always: uploads are single long streams, and the server speaks HTTP/1.1 without TLS. */
  public static HttpClient newHttpClient(Executor executor) {
    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (executor != null) {
      builder.executor(executor);
    }
    return builder.build();
  }

  /** The same server and connection pool, another identity. */
  public ApiClient withToken(String otherToken) {
    return new ApiClient(http, base, otherToken);
  }

  /** The bearer token this client sends (for transports other than the JDK's HttpClient). */
  public String token() {
    return token;
  }

  public URI base() {
    return base;
  }

  /** Path of one file's resource; the name is encoded as a single path segment. */
  public static String filePath(String name) {
    return FILES + "/" + PathSegment.encode(name);
  }

  /** A request builder for {@code path} (which may carry a query), with the bearer token if any. */
  public HttpRequest.Builder request(String path) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path))
        .version(HttpClient.Version.HTTP_1_1);
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return builder;
  }

  /** Sends a request; transport failures become one-line messages naming the server. */
  public <T> HttpResponse<T> send(HttpRequest request, BodyHandler<T> handler)
      throws IOException, InterruptedException {
    try {
      return http.send(request, handler);
    } catch (HttpConnectTimeoutException e) {
      throw new CliException("cannot reach server " + base + ": connection timed out", e);
    } catch (ConnectException e) {
      throw new CliException("cannot reach server " + base + ": " + connectProblem(e), e);
    } catch (HttpTimeoutException e) {
      throw new CliException("server " + base + " did not answer in time", e);
    } catch (IOException e) {
      String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new CliException("request to " + base + " failed: " + detail, e);
    }
  }

  /**
   * A PUT with {@code Expect: 100-continue}, so the server may answer before the body is sent (see
   * {@link ExpectContinueUpload} for why this does not go through HttpClient). Failures read like send()'s.
   */
  public ExpectContinueUpload.Response putExpectingContinue(String path, Map<String, String> headers,
                                                            UploadBody body) {
    return putExpectingContinue(path, headers, body, false);
  }

  /**
   * Like {@link #putExpectingContinue(String, Map, UploadBody)}; with {@code direct} the gateway may send the
   * body straight to the storage node heading the pipeline (307 to a signed link, sparing the gateway hop),
   * and if that node cannot be reached from here, the body goes through the gateway after all.
   */
  public ExpectContinueUpload.Response putExpectingContinue(String path, Map<String, String> headers,
                                                            UploadBody body, boolean direct) {
    if (direct) {
      try {
        return put(path + (path.contains("?") ? "&" : "?") + "direct=1", headers, body);
      } catch (ExpectContinueUpload.RedirectFailed e) {
        lostNodes.add(e.node());
        if (e instanceof ExpectContinueUpload.RedirectLost) {
          // it died with the body half sent: the caller tries again, and that deposit goes elsewhere
          throw new CliException(e.getMessage(), e);
        }
        // it cannot be reached from here: through the gateway after all, placed without it
      }
    }
    try {
      return put(path, headers, body);
    } catch (ExpectContinueUpload.RedirectFailed e) {
      throw new CliException("request to " + base + " failed: " + e.getMessage(), e);
    }
  }

  private ExpectContinueUpload.Response put(String path, Map<String, String> headers, UploadBody body)
      throws ExpectContinueUpload.RedirectFailed {
    Map<String, String> all = new LinkedHashMap<>();
    if (token != null) {
      all.put("Authorization", "Bearer " + token);
    }
    all.put("User-Agent", "depot-cli");
    if (!lostNodes.isEmpty()) {
      all.put(AVOID_HEADER, String.join(",", lostNodes));
    }
    all.putAll(headers);
    try {
      return ExpectContinueUpload.put(URI.create(base + path), all, body, CONNECT_TIMEOUT);
    } catch (ExpectContinueUpload.RedirectFailed e) {
      throw e; // the caller decides: fall back to the gateway, or report
    } catch (UnknownHostException e) {
      throw new CliException("cannot reach server " + base + ": unknown host", e);
    } catch (ConnectException e) {
      throw new CliException("cannot reach server " + base + ": connection refused", e);
    } catch (SocketTimeoutException e) {
      throw new CliException("cannot reach server " + base + ": connection timed out", e);
    } catch (IOException e) {
      String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new CliException("request to " + base + " failed: " + detail, e);
    }
  }

  /** Sends a request whose success answer is JSON (or empty); any non-2xx answer throws. */
  public JsonObject sendForJson(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return parseJson(requireSuccess(response));
  }

  /** The body of a 2xx response; otherwise throws the server's error message. */
  public String requireSuccess(HttpResponse<String> response) {
    return requireSuccess(response.statusCode(), response.body());
  }

  public static String requireSuccess(int status, String body) {
    if (!isSuccess(status)) {
      throw failure(status, body);
    }
    return body;
  }

  public static boolean isSuccess(int status) {
    return status >= 200 && status < 300;
  }

  public static JsonObject parseJson(String body) {
    if (body == null || body.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new CliException("unexpected answer from server (not a JSON object): " + oneLine(body, 120));
    }
  }

  /** The error of a streamed (non-2xx) response: reads a bounded part of its body for the message. */
  public CliException failure(int status, InputStream body) throws IOException {
    try (InputStream in = body) {
      return failure(status, new String(in.readNBytes(MAX_ERROR_BODY), StandardCharsets.UTF_8));
    }
  }

  /** The server's JSON error message when there is one, else a short description of the status. */
  public static CliException failure(int status, String body) {
    return new CliException(errorMessage(status, body));
  }

  static String errorMessage(int status, String body) {
    String fromServer = null;
    if (body != null && !body.isBlank()) {
      try {
        fromServer = messageOf(new JsonObject(body));
      } catch (DecodeException | ClassCastException e) {
        String trimmed = body.strip();
        if (!trimmed.startsWith("<") && trimmed.length() <= 200) {
          fromServer = trimmed; // plain-text error from a proxy or a framework default page
        }
      }
    }
    if (fromServer != null && !fromServer.isBlank()) {
      return oneLine(fromServer, 500);
    }
    return "server answered HTTP " + status + reason(status);
  }

  /** Accepts {"message": ...}, {"error": "..."} and {"error": {"message": ...}}. */
  private static String messageOf(JsonObject json) {
    Object message = json.getValue("message");
    if (message instanceof String s) {
      return s;
    }
    Object error = json.getValue("error");
    if (error instanceof String s) {
      return s;
    }
    if (error instanceof JsonObject e && e.getValue("message") instanceof String s) {
      return s;
    }
    return null;
  }

  private static String reason(int status) {
    return switch (status) {
      case 400 -> " (bad request)";
      case 401 -> " (unauthorized: run `depot login` again)";
      case 403 -> " (forbidden)";
      case 404 -> " (not found)";
      case 409 -> " (conflict)";
      case 413 -> " (file too large)";
      case 500 -> " (internal server error)";
      case 502, 503, 504 -> " (server unavailable)";
      default -> "";
    };
  }

  private static String connectProblem(ConnectException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException) {
        return "unknown host";
      }
    }
    return "connection refused";
  }

  static String oneLine(String text, int max) {
    String flat = text.replaceAll("\\s+", " ").strip();
    return flat.length() <= max ? flat : flat.substring(0, max) + "...";
  }
}
