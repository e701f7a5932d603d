package org.commonweal.ledger;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** An immutable set of payload types by id. {@link #standard()} is what every chain has: {@code transfer}. */
public final class PayloadTypes {

    private static final PayloadTypes STANDARD = of(java.util.List.of(Transfer.PAYLOAD_TYPE));

    private final Map<Integer, PayloadType> byId;

    private PayloadTypes(Map<Integer, PayloadType> byId) {
        this.byId = byId;
    }

    public static PayloadTypes standard() {
        return STANDARD;
    }

    /** These types; two with the same id are an error naming both. */
    public static PayloadTypes of(Collection<? extends PayloadType> types) {
        Map<Integer, PayloadType> byId = new TreeMap<>();
        for (PayloadType type : types) {
            PayloadType other = byId.putIfAbsent(type.id(), type);
            if (other != null && other != type) {
                throw new IllegalArgumentException("payload types " + other.name() + " (" + other.getClass().getName()
                        + ") and " + type.name() + " (" + type.getClass().getName() + ") both claim id " + type.id()
                        + "; uninstall one of them");
            }
        }
        return new PayloadTypes(java.util.Collections.unmodifiableMap(byId));
    }

    /** The standard types plus {@code extra}. */
    public static PayloadTypes standardPlus(Collection<? extends PayloadType> extra) {
        java.util.List<PayloadType> all = new java.util.ArrayList<>(STANDARD.byId.values());
        all.addAll(extra);
        return of(all);
    }

    /** The type with this id, or a rejection listing the known ones. */
    public PayloadType get(int id) throws Rejection {
        PayloadType type = byId.get(id);
        if (type == null) {
            throw new Rejection(Rejection.Reason.UNKNOWN_PAYLOAD_TYPE, "payload type " + id + " is not known to this"
                    + " ledger (known: " + this + ")");
        }
        return type;
    }

    @Override
    public String toString() {
        return byId.values().stream().map(t -> t.id() + " " + t.name()).collect(Collectors.joining(", "));
    }
}
