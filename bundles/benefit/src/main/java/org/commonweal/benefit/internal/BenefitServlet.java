package org.commonweal.benefit.internal;

import java.io.IOException;
import java.util.HexFormat;
import java.util.Map;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.chain.Chain;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.StateView;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The benefit API, read-only, over the committed state of one block (for proofs of any value, use
 * {@code /api/chain/entries/{namespace}/{key}}):
 *
 * <pre>
 * GET /api/benefit                    parameters, coins minted, the next block's emission
 * GET /api/benefit/persons/{key}      nation, the day's allowance use and what is left, local balance ({@code ?day=N})
 * GET /api/benefit/nodes/{key}        nation, stake, every reward earned and held, audit record, audits assigned
 * GET /api/benefit/audits/{receipt}   an open audit: phase, deadline, node, auditor, referee
 * GET /api/benefit/treasury           per nation: proceeds, granted, unallocated, whether it balances
 * GET /api/benefit/grants/{id hex}    a grant: nation, grantee, amount, purpose, votes, paid
 * </pre>
 *
 * While proof of benefit is off (no {@link BenefitParameters} service) every request is answered 404 saying so.
 */
@Component(service = Servlet.class, property = "osgi.http.whiteboard.servlet.pattern=/api/benefit/*")
public final class BenefitServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final transient Chain chain;
    @Reference(name = "parameters", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private transient volatile BenefitParameters configured;

    @Activate
    public BenefitServlet(@Reference(name = "chain") Chain chain) {
        this.chain = chain;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String info = request.getPathInfo() == null ? "" : request.getPathInfo();
        String[] path = info.replaceAll("^/+|/+$", "").split("/");
        BenefitParameters parameters = configured;
        if (parameters == null) {
            write(response, 404, error("NOT_CONFIGURED", "proof of benefit is off on this node: the configuration"
                    + " org.commonweal.benefit names no nations"));
            return;
        }
        StateView state = chain.state();
        long height = chain.head().height();
        try {
            if (path.length == 1 && path[0].isEmpty()) {
                write(response, 200, summary(parameters, state, height));
            } else if (path.length == 2 && path[0].equals("persons")) {
                PublicKey person = PublicKey.fromHex(path[1]);
                String dayParameter = request.getParameter("day");
                long day = dayParameter == null ? System.currentTimeMillis() / 86_400_000L : Long.parseLong(dayParameter);
                write(response, 200, person(parameters, state, person, day, height));
            } else if (path.length == 2 && path[0].equals("nodes")) {
                PublicKey node = PublicKey.fromHex(path[1]);
                var record = BenefitState.node(state, node);
                if (record.isEmpty()) {
                    write(response, 404, error("NOT_FOUND", "node " + node + " is not registered to any nation at height "
                            + height));
                    return;
                }
                BenefitState.Record audits = BenefitState.record(state, node);
                ObjectNode json = MAPPER.createObjectNode().put("key", node.hex()).put("nation", record.get().nation().code())
                        .put("stake", record.get().stake()).put("eligible", record.get().stake() >= parameters.minStake())
                        .put("rewards", BenefitState.rewards(state, node)).put("held", BenefitState.heldRewards(state, node))
                        .put("unbonding", BenefitState.unbonding(state, node)).put("balance", chain.account(node).balance())
                        .put("auditKey", BenefitState.auditKey(state, node).map(HexFormat.of()::formatHex).orElse(null))
                        .put("auditsPassed", audits.passed()).put("faults", audits.faults()).put("slashed", audits.slashed())
                        .put("falseAccusations", audits.falseAccusations()).put("height", height);
                ArrayNode assigned = json.putArray("auditing");
                for (BenefitState.Audit audit : BenefitState.auditsOf(state, node, 1_000)) {
                    assigned.add(HexFormat.of().formatHex(audit.receiptId()));
                }
                write(response, 200, json);
            } else if (path.length == 2 && path[0].equals("audits")) {
                var audit = BenefitState.audit(state, HexFormat.of().parseHex(path[1]));
                if (audit.isEmpty()) {
                    write(response, 404, error("NOT_FOUND", "no open audit of receipt " + path[1] + " at height " + height
                            + ": it was not sampled, or its audit is closed (see the node's auditsPassed and faults)"));
                    return;
                }
                BenefitState.Audit a = audit.get();
                boolean disputed = a.phase() == BenefitState.Phase.DISPUTED;
                write(response, 200, MAPPER.createObjectNode().put("receipt", path[1]).put("phase", a.phase().name())
                        .put("deadline", a.deadline()).put("node", a.node().hex()).put("auditor", a.auditor().hex())
                        .put("referee", disputed ? a.referee().hex() : null)
                        .put("accusedHash", a.phase().ordinal() >= BenefitState.Phase.ACCUSED.ordinal()
                                ? HexFormat.of().formatHex(a.accusedHash()) : null)
                        .put("outputHash", HexFormat.of().formatHex(a.receipt().outputHash()))
                        .put("revealBytes", a.sealedLength()).put("height", height));
            } else if (path.length == 1 && path[0].equals("treasury")) {
                ObjectNode node = MAPPER.createObjectNode().put("height", height);
                ArrayNode nations = node.putArray("nations");
                for (Map.Entry<byte[], byte[]> entry : state.entries(BenefitState.TREASURY, new byte[0], 10_000).entrySet()) {
                    NationCode nation = NationCode.of(entry.getKey());
                    BenefitState.Treasury treasury = BenefitState.treasury(state, nation);
                    nations.addObject().put("nation", nation.code()).put("proceeds", treasury.proceeds())
                            .put("granted", treasury.granted()).put("unallocated", treasury.unallocated())
                            .put("balanced", treasury.balanced());
                }
                write(response, 200, node);
            } else if (path.length == 2 && path[0].equals("grants")) {
                var grant = BenefitState.grant(state, HexFormat.of().parseHex(path[1]));
                if (grant.isEmpty()) {
                    write(response, 404, error("NOT_FOUND", "no grant " + path[1] + " has a vote at height " + height));
                    return;
                }
                BenefitState.Grant g = grant.get();
                write(response, 200, MAPPER.createObjectNode().put("id", path[1]).put("nation", g.nation().code())
                        .put("grantee", g.grantee().hex()).put("amount", g.amount())
                        .put("purpose", HexFormat.of().formatHex(g.purpose())).put("votes", g.votes())
                        .put("approversNeeded", (2 * parameters.grantApprovers().size() + 2) / 3).put("paid", g.paid()));
            } else {
                write(response, 404, error("NOT_FOUND", "no such benefit resource: " + info + " (there are /, /persons/{key},"
                        + " /nodes/{key}, /audits/{receipt id}, /treasury, /grants/{id})"));
            }
        } catch (IllegalArgumentException e) {
            write(response, 400, error("BAD_REQUEST", e.getMessage()));
        }
    }

    private static ObjectNode summary(BenefitParameters parameters, StateView state, long height) {
        long minted = BenefitState.minted(state);
        ObjectNode node = MAPPER.createObjectNode().put("height", height).put("activationHeight", parameters.activationHeight())
                .put("minted", minted).put("supplyCap", parameters.supplyCap())
                .put("nextEmission", Math.min(parameters.emissionAt(height + 1), parameters.supplyCap() - minted))
                .put("halvingInterval", parameters.halvingInterval()).put("allowanceTokensPerDay", parameters.allowanceTokens())
                .put("minStake", parameters.minStake()).put("localPerReceipt", parameters.localPerReceipt())
                .put("localDailyCap", parameters.localDailyCap());
        BenefitParameters.Audit audit = parameters.audit();
        node.putObject("audit").put("sampleRate", audit.sampleRate()).put("revealBlocks", audit.revealBlocks())
                .put("attestBlocks", audit.attestBlocks()).put("disputeBlocks", audit.disputeBlocks())
                .put("slashShare", audit.slashShare()).put("unbondingBlocks", audit.unbondingBlocks())
                .put("holdBlocks", audit.holdBlocks()).put("slashed", BenefitState.slashed(state));
        ArrayNode nations = node.putArray("nations");
        parameters.nations().forEach(n -> nations.add(n.code().code()));
        ObjectNode weights = node.putObject("categoryWeights");
        parameters.categoryWeights().forEach((category, weight) -> weights.put(String.valueOf(category), weight));
        // governance's weights replace the parameters' (a weight of 0 removes a category)
        state.entries(BenefitState.WEIGHT, new byte[0], 256).forEach((category, weight) ->
                weights.put(String.valueOf(category[0] & 0xFF), java.nio.ByteBuffer.wrap(weight).getLong()));
        return node;
    }

    private static ObjectNode person(BenefitParameters parameters, StateView state, PublicKey person, long day,
            long height) {
        ObjectNode node = MAPPER.createObjectNode().put("key", person.hex()).put("height", height).put("day", day);
        var nation = BenefitState.personNation(state, person);
        node.put("attested", nation.isPresent());
        nation.ifPresent(n -> node.put("nation", n.code()));
        BenefitState.DayUsage usage = BenefitState.dayUsage(state, person, day);
        node.put("allowance", parameters.allowanceTokens()).put("tokensUsed", usage.tokens())
                .put("tokensLeft", BenefitState.allowanceLeft(state, parameters, person, day))
                .put("localMinted", usage.localMinted());
        nation.ifPresent(n -> node.put("localBalance", BenefitState.localBalance(state, n, person)));
        return node;
    }

    static ObjectNode error(String code, String message) {
        return MAPPER.createObjectNode().put("error", code).put("message", message);
    }

    static void write(HttpServletResponse response, int status, ObjectNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        MAPPER.writerWithDefaultPrettyPrinter().writeValue(response.getOutputStream(), body);
    }
}
