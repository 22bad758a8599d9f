// A tiny Java program that logs through SLF4J + logback and throws real (chained) exceptions,
// for capturing logback text and logstash-logback-encoder JSON cases (see capture.sh).
package com.example.shop;

import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

public final class Shop {
    private static final Logger LOG = LoggerFactory.getLogger(Shop.class);
    private static final Map<Long, String> CARTS = new HashMap<>();

    static String loadCart(long id) {
        String cart = CARTS.get(id);
        return cart.toUpperCase(); // NullPointerException for an unknown cart
    }

    static void checkout(long id) {
        try {
            loadCart(id);
        } catch (NullPointerException e) {
            throw new IllegalStateException("cart " + id + " could not be loaded", e);
        }
    }

    public static void main(String[] args) {
        LOG.info("Started Shop in 0.42 seconds");
        MDC.put("requestId", "8d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f");
        MDC.put("traceId", "4bf92f3577b34da6a3ce929d0e0e4736");
        LOG.info("GET /orders/42 -> 200");
        LOG.warn("Slow payment provider: {} ms", 812);
        MDC.put("requestId", "req-checkout-9");
        try {
            checkout(9);
        } catch (IllegalStateException e) {
            LOG.error("Checkout failed for cart {}", 9, e);
        }
        MDC.clear();
        try {
            Integer.parseInt("abc");
        } catch (NumberFormatException e) {
            LOG.error("Bad quantity", e);
        }
        LOG.info("Shutting down");
    }
}
