package com.example.shop;

import org.hibernate.internal.SessionImpl;

public class OrderController {
    private final SessionImpl session = new SessionImpl();

    public String show(long id) {
        Object order = session.load("orders", id); // expect: own frame
        return "order " + order;
    }
}
