package io.cairn.chaos.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FirewallTest {
  private static final Map<String, String> IPS =
      Map.of("n1", "198.18.16.2", "n2", "198.18.16.3", "n3", "198.18.16.4");

  @Test
  void healedNodeGetsAnEmptyFilterTable() {
    assertEquals(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
        new Firewall().rulesFor("n1", IPS));
  }

  @Test
  void cutDropsBothDirectionsOnBothEnds() {
    Firewall firewall = new Firewall();
    firewall.cut("n2", "n1");
    assertTrue(firewall.isCut("n1", "n2"));
    String n1 = firewall.rulesFor("n1", IPS);
    String n2 = firewall.rulesFor("n2", IPS);
    assertTrue(
        n1.contains("-A INPUT -s 198.18.16.3/32 -j DROP\n-A OUTPUT -d 198.18.16.3/32 -j DROP"));
    assertTrue(
        n2.contains("-A INPUT -s 198.18.16.2/32 -j DROP\n-A OUTPUT -d 198.18.16.2/32 -j DROP"));
    assertTrue(!firewall.rulesFor("n3", IPS).contains("DROP"));
  }

  @Test
  void lossDropsIncomingNonLoopbackPacketsWithItsProbability() {
    Firewall firewall = new Firewall();
    firewall.loss("n3", 25);
    assertTrue(
        firewall
            .rulesFor("n3", IPS)
            .contains("-A INPUT ! -i lo -m statistic --mode random --probability 0.2500 -j DROP"));
    firewall.loss("n3", 0);
    assertTrue(!firewall.rulesFor("n3", IPS).contains("DROP"));
  }

  @Test
  void rejectsLossOutsideZeroToHundredAndSelfLinks() {
    assertThrows(IllegalArgumentException.class, () -> new Firewall().loss("n1", 101));
    assertThrows(IllegalArgumentException.class, () -> new Firewall().cut("n1", "n1"));
  }
}
