/* dot_report.c - the deployment diagram (diagram.h) as a Graphviz DOT
 * graph, for --dot: nodes are roles with their addresses, edges carry the
 * colour, style and label of the picture on the page, and a tooltip with
 * every rule or aggregate they stand for. Graphviz lays it out its own
 * way ("dot -Tsvg"); flowaudit does not need it. */
#include "diagram.h"

#include "escape.h"

static void dot_node(const fa_diagram_node *n, int i, FILE *out)
{
    fprintf(out, "  n%d [label=\"", i);
    fa_dot_escape(out, n->label);
    for (int k = 0; k < n->naddrs; k++) {
        fputs("\\n", out);
        fa_dot_escape(out, n->addrs[k]);
    }
    fputc('"', out);
    if (n->description) {
        fputs(", tooltip=\"", out);
        fa_dot_escape(out, n->description);
        fputc('"', out);
    }
    fputs("];\n", out);
}

static void dot_edge(const fa_diagram_edge *e, FILE *out)
{
    const char *dash = fa_edge_kind_dash(e->kind);
    fprintf(out, "  n%d -> n%d [color=\"%s\", fontcolor=\"%s\", style=%s, penwidth=%s", e->from, e->to,
            fa_edge_kind_color(e->kind), fa_edge_kind_color(e->kind), dash[0] ? "dashed" : "solid",
            e->kind == FA_EDGE_SEEN ? "1" : "2");
    if (e->label[0]) {
        fputs(", label=\"", out);
        fa_dot_escape(out, e->label);
        fputc('"', out);
    }
    fprintf(out, ", tooltip=\"%s: ", fa_edge_kind_name(e->kind));
    fa_dot_escape(out, e->detail);
    fputs("\"];\n", out);
}

int fa_dot_write(const fa_diagram *d, FILE *out)
{
    fputs("// flowaudit: documented rules by status, wrong-direction and undocumented\n"
          "// traffic between inventory hosts. Render: dot -Tsvg FILE > FILE.svg\n"
          "digraph flowaudit {\n"
          "  rankdir=LR;\n"
          "  node [shape=box, style=rounded, fontname=\"sans-serif\", fontsize=10];\n"
          "  edge [fontname=\"sans-serif\", fontsize=9];\n",
          out);
    for (int i = 0; i < d->nnodes; i++)
        dot_node(&d->nodes[i], i, out);
    for (int i = 0; i < d->nedges; i++)
        dot_edge(&d->edges[i], out);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
