package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineHopTest {

  @Test
  void emptyHeaderMeansNoMoreHops() {
    assertTrue(PipelineHop.parse(null).isEmpty());
    assertTrue(PipelineHop.parse("").isEmpty());
    assertTrue(PipelineHop.parse("   ").isEmpty());
    assertEquals("", PipelineHop.format(List.of()));
  }

  @Test
  void parseOne() {
    assertEquals(List.of(new PipelineHop("storage-1", "http://10.0.0.1:7001")),
        PipelineHop.parse("storage-1=http://10.0.0.1:7001"));
  }

  @Test
  void parseSeveralKeepsTheOrder() {
    List<PipelineHop> hops = PipelineHop.parse("b=http://h2:2,a=https://h1:1/base,c=http://[::1]:3");
    assertEquals(List.of(new PipelineHop("b", "http://h2:2"), new PipelineHop("a", "https://h1:1/base"),
        new PipelineHop("c", "http://[::1]:3")), hops);
  }

  @Test
  void formatThenParseIsIdentity() {
    List<PipelineHop> hops = List.of(new PipelineHop("node-1", "http://127.0.0.1:40001"),
        new PipelineHop("node-2", "http://127.0.0.1:40002"), new PipelineHop("node-3", "https://example.org:443/x?y=1"));
    String header = PipelineHop.format(hops);
    assertEquals("node-1=http://127.0.0.1:40001,node-2=http://127.0.0.1:40002,node-3=https://example.org:443/x?y=1",
        header);
    assertEquals(hops, PipelineHop.parse(header));
  }

  @Test
  void parseThenFormatIsIdentity() {
    String header = "x=http://a:1,y=http://b:2";
    assertEquals(header, PipelineHop.format(PipelineHop.parse(header)));
  }

  @Test
  void urlMayContainEqualsSigns() {
    assertEquals(List.of(new PipelineHop("n", "http://h:1/p?a=b")), PipelineHop.parse("n=http://h:1/p?a=b"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"storage-1", "=http://h:1", "n=", "n=ftp://h:1", "n=h:1", "n=//h:1", "n=HTTP://h:1x",
      "a=http://h:1,,b=http://h:2", "a=http://h:1,b", ",a=http://h:1", "n= http://h:1"})
  void malformedHopIsRejected(String header) {
    DepotException e = assertThrows(DepotException.class, () -> PipelineHop.parse(header), header);
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertTrue(e.getMessage().contains("malformed pipeline hop"), e.getMessage());
  }
}
