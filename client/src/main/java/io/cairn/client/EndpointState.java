package io.cairn.client;

/**
 * The state of the circuit breaker a {@link CairnClient} keeps for one endpoint (see {@link
 * CairnClient#endpointStates()} and {@link CairnClientBuilder#circuitBreaker}).
 */
public enum EndpointState {
  /** Healthy: calls are sent to the endpoint as usual. */
  CLOSED,
  /**
   * Too many recent transport failures: the endpoint is skipped while another can be tried, until
   * the breaker's open wait has passed; the next call after that makes it {@link #HALF_OPEN}.
   */
  OPEN,
  /**
   * The open wait has passed: one probe call is let through; its success closes the breaker, its
   * transport failure opens it again.
   */
  HALF_OPEN
}
