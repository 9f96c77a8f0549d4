package depot.protocol;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** A node's base URL in one spelling ({@code scheme://host:port}), so URLs from clients compare with the directory's. */
public final class NodeUrls {
  private NodeUrls() {}

  /** @throws IllegalArgumentException if {@code url} is not an http(s) URL with a host */
  public static String origin(String url) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: " + url);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException("not an http(s) URL with a host: " + url);
    }
    int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
  }
}
