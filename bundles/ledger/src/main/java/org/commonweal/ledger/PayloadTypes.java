package org.commonweal.ledger;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The extensions a ledger executes, immutable: payload types by id ({@link #standard()} is what every
 * chain has: {@code transfer}) and block rules by name ({@link #withBlockRules}; none by default).
 */
public final class PayloadTypes {

    private static final PayloadTypes STANDARD = of(java.util.List.of(Transfer.PAYLOAD_TYPE));

    private final Map<Integer, PayloadType> byId;
    private final java.util.List<BlockRule> blockRules;

    private PayloadTypes(Map<Integer, PayloadType> byId, java.util.List<BlockRule> blockRules) {
        this.byId = byId;
        this.blockRules = blockRules;
    }

    /** These payload types with these block rules (in name order; two with one name are an error naming both). */
    public PayloadTypes withBlockRules(Collection<? extends BlockRule> rules) {
        TreeMap<String, BlockRule> byName = new TreeMap<>();
        for (BlockRule rule : rules) {
            BlockRule other = byName.putIfAbsent(rule.name(), rule);
            if (other != null && other != rule) {
                throw new IllegalArgumentException("block rules " + other.getClass().getName() + " and "
                        + rule.getClass().getName() + " are both named " + rule.name() + "; uninstall one of them");
            }
        }
        return new PayloadTypes(byId, java.util.List.copyOf(byName.values()));
    }

    /** The block rules, in the order they run (by name). */
    public java.util.List<BlockRule> blockRules() {
        return blockRules;
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
        return new PayloadTypes(java.util.Collections.unmodifiableMap(byId), java.util.List.of());
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
        String types = byId.values().stream().map(t -> t.id() + " " + t.name()).collect(Collectors.joining(", "));
        return blockRules.isEmpty() ? types : types + "; block rules: "
                + blockRules.stream().map(BlockRule::name).collect(Collectors.joining(", "));
    }
}
