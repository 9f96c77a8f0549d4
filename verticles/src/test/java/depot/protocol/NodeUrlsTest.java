package depot.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NodeUrlsTest {
  @Test
  void oneSpellingPerNode() {
    assertEquals("http://10.0.0.5:8081", NodeUrls.origin("http://10.0.0.5:8081"));
    assertEquals("http://10.0.0.5:8081", NodeUrls.origin(" HTTP://10.0.0.5:8081/direct/v1/uploads/b?t=x "));
    assertEquals("http://store-a:80", NodeUrls.origin("http://Store-A"));
    assertEquals("https://store-a:443", NodeUrls.origin("https://store-a/"));
  }

  @Test
  void anythingElseIsRefused() {
    for (String bad : new String[] {"", "store-a:8081", "file:///etc/passwd", "ftp://store-a", "http://", "not a url"}) {
      assertThrows(IllegalArgumentException.class, () -> NodeUrls.origin(bad), bad);
    }
  }
}
