package io.jremus.cli.cluster;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one node sees of the cluster, parsed from {@code crm_mon -1 --output-as=xml}: the DC, quorum,
 * the nodes and where each resource instance runs in which role. A partitioned node's view is its
 * own (it may still list itself as DC or Promoted), so ask a node of the majority.
 */
public record CrmStatus(String viewer, Optional<String> dc, boolean quorate, List<NodeState> nodes, List<Instance> instances) {

    /** A node as the viewer sees it. */
    public record NodeState(String name, boolean online, boolean unclean) {
    }

    /**
     * One resource instance: its id, the clone or group it belongs to (empty for a top-level
     * primitive), its role ({@code Started}, {@code Promoted}, {@code Unpromoted}, {@code Stopped};
     * older pacemakers say {@code Master}/{@code Slave}) and the nodes it runs on.
     */
    public record Instance(String id, Optional<String> parent, String role, List<String> nodes) {
        public boolean promoted() {
            return role.equals("Promoted") || role.equals("Master");
        }

        boolean belongsTo(String resourceOrParent) {
            return id.equals(resourceOrParent) || parent.filter(resourceOrParent::equals).isPresent();
        }
    }

    public List<String> onlineNodes() {
        return nodes.stream().filter(NodeState::online).map(NodeState::name).toList();
    }

    /** Nodes holding a Promoted instance of {@code resourceOrClone} (the primitive's or the clone's id). */
    public List<String> promotedNodes(String resourceOrClone) {
        return instances.stream().filter(i -> i.belongsTo(resourceOrClone) && i.promoted())
                .flatMap(i -> i.nodes().stream()).distinct().toList();
    }

    /** Nodes running any instance of {@code resourceOrClone}, in any role but Stopped. */
    public List<String> runningNodes(String resourceOrClone) {
        return instances.stream().filter(i -> i.belongsTo(resourceOrClone) && !i.role().equals("Stopped"))
                .flatMap(i -> i.nodes().stream()).distinct().toList();
    }

    /** Parses crm_mon's XML; throws IllegalArgumentException if it is not that. */
    public static CrmStatus parse(String viewer, String xml) {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            doc = f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (Exception e) {
            throw new IllegalArgumentException("not crm_mon XML: " + e.getMessage(), e);
        }
        Element root = doc.getDocumentElement();
        Element summary = first(root, "summary");
        if (summary == null) throw new IllegalArgumentException("crm_mon XML without <summary>");
        Element dcEl = first(summary, "current_dc");
        Optional<String> dc = Optional.empty();
        boolean quorate = false;
        if (dcEl != null && "true".equals(dcEl.getAttribute("present"))) {
            dc = Optional.of(dcEl.getAttribute("name")).filter(s -> !s.isEmpty());
            quorate = "true".equals(dcEl.getAttribute("with_quorum"));
        }
        List<NodeState> nodes = new ArrayList<>();
        Element nodesEl = first(root, "nodes");
        if (nodesEl != null) {
            for (Element n : children(nodesEl, "node")) {
                nodes.add(new NodeState(n.getAttribute("name"), "true".equals(n.getAttribute("online")),
                        "true".equals(n.getAttribute("unclean"))));
            }
        }
        List<Instance> instances = new ArrayList<>();
        Element res = first(root, "resources");
        if (res != null) collect(res, Optional.empty(), instances);
        return new CrmStatus(viewer, dc, quorate, List.copyOf(nodes), List.copyOf(instances));
    }

    private static void collect(Element parent, Optional<String> owner, List<Instance> out) {
        for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (!(c instanceof Element e)) continue;
            switch (e.getTagName()) {
                case "resource" -> {
                    List<String> on = children(e, "node").stream().map(n -> n.getAttribute("name")).toList();
                    out.add(new Instance(e.getAttribute("id"), owner, e.getAttribute("role"), on));
                }
                case "clone", "group", "bundle" -> collect(e, owner.isPresent() ? owner : Optional.of(e.getAttribute("id")), out);
                default -> {
                }
            }
        }
    }

    private static Element first(Element parent, String tag) {
        List<Element> l = children(parent, tag);
        return l.isEmpty() ? null : l.getFirst();
    }

    private static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        NodeList l = parent.getChildNodes();
        for (int i = 0; i < l.getLength(); i++) {
            if (l.item(i) instanceof Element e && e.getTagName().equals(tag)) out.add(e);
        }
        return out;
    }
}
