/* diagram.c - the deployment graph of a finished audit and its layout
 * (diagram.h). The layout is our own, not Graphviz's, so that the page is
 * the same byte for byte wherever it is made and the build needs nothing
 * more: roles in columns by the longest chain of documented rules that
 * leads to them (clients on the left, the services they reach to the
 * right), tall columns split, each column ordered by its neighbours'
 * places to keep crossings down. */
#include "diagram.h"

#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "decode.h"
#include "flow.h"

#define COL_GAP 120      /* pixels between columns, room for edge labels */
#define ROW_GAP 18
#define ROWS_MAX 10      /* nodes per column before it is split */
#define DETAIL_MAX 2048  /* bytes of an edge's item list */

enum edge_class { CLASS_RULE, CLASS_WRONG, CLASS_UNDOC };

/* One rule or aggregate on its way into an edge. */
typedef struct item {
    int from, to;           /* nodes */
    int cls;                /* edge_class */
    fa_edge_kind kind;
    int rule;               /* the rule, or the reversed rule, or -1 */
    const fa_undoc *u;      /* undocumented aggregate, else NULL */
} item;

static const struct kind_style {
    const char *name, *color, *dash;
} kind_styles[FA_EDGE_KINDS] = {
    [FA_EDGE_REJECTED] = {"rejected", "#c62828", ""},
    [FA_EDGE_BLOCKED] = {"blocked", "#ef6c00", ""},
    [FA_EDGE_WRONG_DIRECTION] = {"wrong direction", "#8e24aa", "8 4"},
    [FA_EDGE_UNDOCUMENTED] = {"undocumented", "#1565c0", "2 3"},
    [FA_EDGE_NOT_SEEN] = {"not seen", "#9e9e9e", "6 4"},
    [FA_EDGE_UNCONFIRMED] = {"unconfirmed", "#8d6e63", "3 3"},
    [FA_EDGE_SEEN] = {"seen", "#2e7d32", ""},
};

const char *fa_edge_kind_name(fa_edge_kind k) { return kind_styles[k].name; }
const char *fa_edge_kind_color(fa_edge_kind k) { return kind_styles[k].color; }
const char *fa_edge_kind_dash(fa_edge_kind k) { return kind_styles[k].dash; }

void fa_diagram_free(fa_diagram *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nedges; i++)
        free(d->edges[i].detail);
    free(d->nodes);
    free(d->edges);
    free(d);
}

/* The role's addresses from the site, or its members for a group. */
static void node_addresses(const fa_audit *a, fa_diagram_node *n)
{
    const fa_role *ro = &a->rs->roles[n->role];
    int total = 0;
    char buf[FA_ADDR_STRLEN];
    if (a->site && a->site->role_external[n->role])
        snprintf(n->addrs[total++], sizeof n->addrs[0], "outside the inventory");
    for (int k = 0; k < ro->nmembers && total < FA_DIAGRAM_ADDR_LINES; k++)
        snprintf(n->addrs[total++], sizeof n->addrs[0], "= %s", a->rs->roles[ro->members[k]].id);
    for (int i = 0; a->site && i < a->site->nroles; i++) {
        const fa_site_role *sr = &a->site->roles[i];
        if (sr->role != n->role)
            continue;
        if (total < FA_DIAGRAM_ADDR_LINES) {
            /* The prefix counts the 16-byte form, IPv4 mapped. */
            int bits = fa_addr_is_v4(&sr->cidr.net) ? sr->cidr.prefix - 96 : sr->cidr.prefix;
            fa_addr_str(&sr->cidr.net, buf, sizeof buf);
            if (sr->cidr.prefix < 128)
                snprintf(n->addrs[total], sizeof n->addrs[0], "%s/%d", buf, bits);
            else
                snprintf(n->addrs[total], sizeof n->addrs[0], "%s", buf);
        }
        total++;
    }
    n->naddrs = total < FA_DIAGRAM_ADDR_LINES ? total : FA_DIAGRAM_ADDR_LINES;
    if (total > FA_DIAGRAM_ADDR_LINES)
        snprintf(n->addrs[n->naddrs++], sizeof n->addrs[0], "+%d more", total - FA_DIAGRAM_ADDR_LINES);
}

/* The node of a role (FA_ROLE_ANY included), made on first use. */
static int node_of(fa_diagram *d, int *index, const fa_audit *a, int role)
{
    int *slot = &index[role + 1];
    if (*slot >= 0)
        return *slot;
    fa_diagram_node *n = &d->nodes[d->nnodes];
    memset(n, 0, sizeof *n);
    n->role = role;
    if (role == FA_ROLE_ANY) {
        snprintf(n->label, sizeof n->label, "any");
        snprintf(n->addrs[n->naddrs++], sizeof n->addrs[0], "any host");
    } else {
        const fa_role *ro = &a->rs->roles[role];
        snprintf(n->label, sizeof n->label, "%s.%s", a->rs->products[ro->product].id, ro->id);
        n->description = ro->description;
        node_addresses(a, n);
    }
    *slot = d->nnodes++;
    return *slot;
}

static bool rule_drawn(const fa_audit *a, int i)
{
    fa_rule_status s = a->rules[i].status;
    if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
        return false;
    return s != FA_RULE_NOT_AUDITED && s != FA_RULE_NOT_OBSERVABLE;
}

static fa_edge_kind kind_of_status(fa_rule_status s)
{
    switch (s) {
    case FA_RULE_REJECTED: return FA_EDGE_REJECTED;
    case FA_RULE_BLOCKED: return FA_EDGE_BLOCKED;
    case FA_RULE_NOT_SEEN: return FA_EDGE_NOT_SEEN;
    case FA_RULE_UNCONFIRMED: return FA_EDGE_UNCONFIRMED;
    default: return FA_EDGE_SEEN;
    }
}

/* The node of an inventory host: the first role the site gives it. */
static int host_node(fa_diagram *d, int *index, const fa_audit *a, const fa_addr *h)
{
    for (int i = 0; a->site && i < a->site->nroles; i++)
        if (fa_cidr_contains(&a->site->roles[i].cidr, h))
            return node_of(d, index, a, a->site->roles[i].role);
    return -1;
}

/* Every drawn rule and every aggregate between known roles, as items;
 * the nodes they need are made on the way. Returns the count, or -1. */
static int collect_items(fa_diagram *d, int *index, const fa_audit *a, item *it)
{
    int n = 0;
    for (int i = 0; i < a->rs->nrules; i++) {
        const fa_rule *r = &a->rs->rules[i];
        if (!rule_drawn(a, i))
            continue;
        int f = node_of(d, index, a, r->from_role), t = node_of(d, index, a, r->to_role);
        it[n++] = (item){f, t, CLASS_RULE, kind_of_status(a->rules[i].status), i, NULL};
    }
    for (uint32_t i = 0; i < a->undoc.n; i++) {
        const fa_undoc *u = fa_keytab_at(&a->undoc, i);
        if (u->key.wrong_direction && u->rule >= 0) {
            const fa_rule *r = &a->rs->rules[u->rule];
            int f = node_of(d, index, a, r->to_role), t = node_of(d, index, a, r->from_role);
            it[n++] = (item){f, t, CLASS_WRONG, FA_EDGE_WRONG_DIRECTION, u->rule, u};
        } else if (!u->key.wrong_direction && a->site && fa_site_in_inventory(a->site, &u->key.orig) &&
                   fa_site_in_inventory(a->site, &u->key.resp)) {
            int f = host_node(d, index, a, &u->key.orig), t = host_node(d, index, a, &u->key.resp);
            if (f >= 0 && t >= 0)
                it[n++] = (item){f, t, CLASS_UNDOC, FA_EDGE_UNDOCUMENTED, -1, u};
        }
    }
    return n;
}

static int item_cmp(const void *x, const void *y)
{
    const item *a = x, *b = y;
    if (a->from != b->from) return a->from - b->from;
    if (a->to != b->to) return a->to - b->to;
    if (a->cls != b->cls) return a->cls - b->cls;
    if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
    if (a->rule != b->rule) return a->rule - b->rule;
    if (!a->u || !b->u) return 0;
    int c = fa_addr_cmp(&a->u->key.orig, &b->u->key.orig);
    if (!c) c = fa_addr_cmp(&a->u->key.resp, &b->u->key.resp);
    if (!c) c = (int)a->u->key.proto - (int)b->u->key.proto;
    return c ? c : (int)a->u->key.port - (int)b->u->key.port;
}

/* One item as a line of its edge's detail, and as a word of its label. */
static void item_text(const fa_audit *a, const item *it, char *line, size_t llen, char *word, size_t wlen)
{
    char svc[320], o[FA_ADDR_STRLEN], r[FA_ADDR_STRLEN];
    if (it->cls == CLASS_RULE) {
        fa_audit_service(a, it->rule, -1, svc, sizeof svc);
        snprintf(line, llen, "%s %s: %s", a->rs->rules[it->rule].id, svc,
                 fa_rule_status_name(a->rules[it->rule].status));
        snprintf(word, wlen, "%s", a->rs->rules[it->rule].id);
        return;
    }
    const fa_undoc *u = it->u;
    bool ports = u->key.proto == FA_PROTO_TCP || u->key.proto == FA_PROTO_UDP;
    if (ports)
        snprintf(word, wlen, "%s/%u", fa_proto_name(u->key.proto), u->key.port);
    else
        snprintf(word, wlen, "%s", fa_proto_name(u->key.proto));
    snprintf(line, llen, "%s -> %s %s: %llu flows%s%s", fa_addr_str(&u->key.orig, o, sizeof o),
             fa_addr_str(&u->key.resp, r, sizeof r), word, (unsigned long long)u->flows,
             it->cls == CLASS_WRONG ? ", reverse of " : "", it->cls == CLASS_WRONG ? a->rs->rules[it->rule].id : "");
}

/* Appends text to a bounded buffer; says once that the rest was cut. */
static void append(char *buf, size_t cap, size_t *len, const char *text, int *cut)
{
    size_t n = strlen(text);
    if (*len + n + 16 >= cap) {
        if (!(*cut)++ && *len + 5 < cap)
            *len += (size_t)snprintf(buf + *len, cap - *len, "...\n");
        return;
    }
    memcpy(buf + *len, text, n + 1);
    *len += n;
}

/* Items [from, to) sorted alike in their edge (the first is the worst). */
static int make_edge(const fa_audit *a, const item *it, int from, int to, fa_diagram_edge *e)
{
    char line[512], word[64];
    size_t len = 0, llen = 0;
    int cut = 0, lcut = 0;
    memset(e, 0, sizeof *e);
    e->from = it[from].from;
    e->to = it[from].to;
    e->kind = it[from].kind;
    e->ranks = it[from].cls == CLASS_RULE;
    if (!(e->detail = malloc(DETAIL_MAX)))
        return -1;
    e->detail[0] = '\0';
    for (int i = from; i < to; i++) {
        item_text(a, &it[i], line, sizeof line, word, sizeof word);
        append(e->detail, DETAIL_MAX, &len, line, &cut);
        append(e->detail, DETAIL_MAX, &len, "\n", &cut);
        /* Only what is wrong is labelled, worst first: the eye goes there. */
        if (it[i].kind == FA_EDGE_SEEN)
            continue;
        if (llen)
            append(e->label, sizeof e->label, &llen, " ", &lcut);
        append(e->label, sizeof e->label, &llen, word, &lcut);
    }
    return 0;
}

static int make_edges(fa_diagram *d, const fa_audit *a, item *it, int nitems)
{
    qsort(it, (size_t)nitems, sizeof *it, item_cmp);
    for (int i = 0; i < nitems;) {
        int j = i + 1;
        while (j < nitems && it[j].from == it[i].from && it[j].to == it[i].to && it[j].cls == it[i].cls)
            j++;
        if (make_edge(a, it, i, j, &d->edges[d->nedges]) != 0)
            return -1;
        d->nedges++;
        i = j;
    }
    return 0;
}

/* Marks the edges that close a cycle (depth first, in node order), so
 * that the columns can follow the others. */
static void find_back_edges(const fa_diagram *d, int u, char *state, bool *back)
{
    state[u] = 1;
    for (int i = 0; i < d->nedges; i++) {
        const fa_diagram_edge *e = &d->edges[i];
        if (!e->ranks || e->from != u || e->to == u)
            continue;
        if (state[e->to] == 1)
            back[i] = true;
        else if (state[e->to] == 0)
            find_back_edges(d, e->to, state, back);
    }
    state[u] = 2;
}

/* Column by the longest chain of documented rules leading to a role. */
static int rank_nodes(fa_diagram *d, int *rank)
{
    char *state = calloc((size_t)d->nnodes + 1, 1);
    bool *back = calloc((size_t)d->nedges + 1, sizeof *back);
    int top = 0;
    if (!state || !back) {
        free(state);
        free(back);
        return -1;
    }
    for (int u = 0; u < d->nnodes; u++)
        if (!state[u])
            find_back_edges(d, u, state, back);
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < d->nedges; i++) {
            const fa_diagram_edge *e = &d->edges[i];
            if (e->ranks && !back[i] && e->from != e->to && rank[e->to] < rank[e->from] + 1) {
                rank[e->to] = rank[e->from] + 1;
                moved = true;
            }
        }
    }
    for (int u = 0; u < d->nnodes; u++)
        top = rank[u] > top ? rank[u] : top;
    free(state);
    free(back);
    return top + 1;
}

static int by_weight(const void *x, const void *y)
{
    const fa_diagram_node *a = *(fa_diagram_node *const *)x, *b = *(fa_diagram_node *const *)y;
    if (a->weight != b->weight)
        return a->weight < b->weight ? -1 : 1;
    return a->role - b->role;
}

/* Orders each column by the mean place of its neighbours (a few sweeps
 * of the barycentre heuristic); places are fractions of their column. */
static int order_columns(fa_diagram *d, const int *rank, int ncols)
{
    int *count = calloc((size_t)ncols, sizeof *count);
    fa_diagram_node **v = malloc(((size_t)d->nnodes + 1) * sizeof *v);
    if (!count || !v) {
        free(count);
        free(v);
        return -1;
    }
    for (int u = 0; u < d->nnodes; u++)
        d->nodes[u].row = count[rank[u]]++;
    for (int sweep = 0; sweep < 4; sweep++) {
        for (int u = 0; u < d->nnodes; u++) {
            double sum = 0;
            int n = 0;
            for (int i = 0; i < d->nedges; i++) {
                const fa_diagram_edge *e = &d->edges[i];
                int other = e->from == u ? e->to : e->to == u ? e->from : -1;
                if (!e->ranks || other < 0 || other == u)
                    continue;
                sum += (d->nodes[other].row + 0.5) / count[rank[other]];
                n++;
            }
            d->nodes[u].weight = n ? sum / n : (d->nodes[u].row + 0.5) / count[rank[u]];
        }
        for (int c = 0; c < ncols; c++) {
            int n = 0;
            for (int u = 0; u < d->nnodes; u++)
                if (rank[u] == c)
                    v[n++] = &d->nodes[u];
            qsort(v, (size_t)n, sizeof *v, by_weight);
            for (int k = 0; k < n; k++)
                v[k]->row = k;
        }
    }
    free(count);
    free(v);
    return 0;
}

/* Roles without an edge go in rows under the columns, where they take
 * no room from the graph. */
static int place_loose(fa_diagram *d, const int *rank, int loose, int top, int width)
{
    int per_row = (width - 20) / (FA_DIAGRAM_NODE_W + 20), tallest = 0, bottom = top;
    per_row = per_row < 4 ? 4 : per_row;
    for (int u = 0; u < d->nnodes; u++)
        if (rank[u] == loose && d->nodes[u].h > tallest)
            tallest = d->nodes[u].h;
    for (int u = 0; u < d->nnodes; u++) {
        fa_diagram_node *n = &d->nodes[u];
        if (rank[u] != loose)
            continue;
        n->col = -1;
        n->x = 20 + n->row % per_row * (FA_DIAGRAM_NODE_W + 20);
        n->y = top + n->row / per_row * (tallest + ROW_GAP);
        bottom = n->y + tallest + 20 > bottom ? n->y + tallest + 20 : bottom;
    }
    return bottom;
}

/* Pixels: a column of ROWS_MAX nodes at most (a taller one is split into
 * neighbours), each column centred on the tallest; rank nranks holds the
 * roles without an edge. */
static void place_nodes(fa_diagram *d, const int *rank, int nranks)
{
    int base[FA_MAX_ROLES + 2] = {0}, height[FA_MAX_ROLES + 2] = {0}, ncols = 0, tallest = 0;
    for (int r = 0; r < nranks; r++) {
        int most = -1;
        for (int u = 0; u < d->nnodes; u++)
            most = rank[u] == r && d->nodes[u].row > most ? d->nodes[u].row : most;
        base[r] = ncols;
        ncols += most < 0 ? 0 : most / ROWS_MAX + 1;
    }
    for (int u = 0; u < d->nnodes; u++) {
        fa_diagram_node *n = &d->nodes[u];
        n->col = rank[u] < nranks ? base[rank[u]] + n->row / ROWS_MAX : -1;
        n->w = FA_DIAGRAM_NODE_W;
        n->h = 26 + 14 * n->naddrs;
    }
    for (int k = 0; k < d->nnodes; k++)
        for (int u = 0; u < d->nnodes; u++) {
            fa_diagram_node *n = &d->nodes[u];
            if (n->row != k || n->col < 0)
                continue;
            n->y = height[n->col];
            height[n->col] += n->h + ROW_GAP;
            tallest = height[n->col] > tallest ? height[n->col] : tallest;
        }
    for (int u = 0; u < d->nnodes; u++) {
        fa_diagram_node *n = &d->nodes[u];
        n->x = 20 + n->col * (FA_DIAGRAM_NODE_W + COL_GAP);
        n->y += 20 + (tallest - height[n->col < 0 ? 0 : n->col]) / 2;
    }
    d->width = 40 + ncols * (FA_DIAGRAM_NODE_W + COL_GAP) - COL_GAP + 90;
    d->width = d->width < 4 * (FA_DIAGRAM_NODE_W + 20) + 20 ? 4 * (FA_DIAGRAM_NODE_W + 20) + 20 : d->width;
    d->height = place_loose(d, rank, nranks, tallest + 30, d->width);
}

/* One end of an edge on one side of a node. */
typedef struct end {
    int node, right;       /* the side: 1 right, 0 left */
    int other_y;           /* where the other end is, to order the ends */
    int edge, arriving;
} end;

static int end_cmp(const void *x, const void *y)
{
    const end *a = x, *b = y;
    if (a->node != b->node) return a->node - b->node;
    if (a->right != b->right) return a->right - b->right;
    if (a->other_y != b->other_y) return a->other_y - b->other_y;
    if (a->edge != b->edge) return a->edge - b->edge;
    return a->arriving - b->arriving;
}

static int mid_y(const fa_diagram_node *n)
{
    return n->y + n->h / 2;
}

/* Which sides an edge joins: forward left to right, backward right to
 * left, within a column (or a loop) right to right. */
static void edge_sides(const fa_diagram *d, const fa_diagram_edge *e, int *from_right, int *to_right)
{
    const fa_diagram_node *f = &d->nodes[e->from], *t = &d->nodes[e->to];
    *from_right = t->col >= f->col;
    *to_right = t->col <= f->col;
}

/* Spreads the ends on each side of a node along its height, in the order
 * of where they lead, so that edges do not start from one point. */
static int spread_ends(fa_diagram *d)
{
    end *v = malloc(((size_t)d->nedges * 2 + 1) * sizeof *v);
    int n = 0;
    if (!v)
        return -1;
    for (int i = 0; i < d->nedges; i++) {
        fa_diagram_edge *e = &d->edges[i];
        int fr, tr;
        edge_sides(d, e, &fr, &tr);
        v[n++] = (end){e->from, fr, mid_y(&d->nodes[e->to]), i, 0};
        v[n++] = (end){e->to, tr, mid_y(&d->nodes[e->from]), i, 1};
    }
    qsort(v, (size_t)n, sizeof *v, end_cmp);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && v[j].node == v[i].node && v[j].right == v[i].right)
            j++;
        const fa_diagram_node *nd = &d->nodes[v[i].node];
        for (int k = i; k < j; k++) {
            fa_diagram_edge *e = &d->edges[v[k].edge];
            int x = v[k].right ? nd->x + nd->w : nd->x;
            int y = nd->y + 4 + (nd->h - 8) * (k - i + 1) / (j - i + 1);
            if (v[k].arriving) {
                e->x2 = x;
                e->y2 = y;
            } else {
                e->x1 = x;
                e->y1 = y;
            }
        }
        i = j;
    }
    free(v);
    return 0;
}

/* The curve's control points, and its middle for the label. */
static void shape_edge(const fa_diagram *d, fa_diagram_edge *e)
{
    int fr, tr;
    edge_sides(d, e, &fr, &tr);
    int span = e->x2 > e->x1 ? e->x2 - e->x1 : e->x1 - e->x2;
    int reach = fr && tr ? 50 + abs(e->y2 - e->y1) / 6 : span / 2 > 60 ? span / 2 : 60;
    e->cx1 = e->x1 + (fr ? reach : -reach);
    e->cx2 = e->x2 + (tr ? reach : -reach);
    e->cy1 = e->y1;
    e->cy2 = e->y2;
    if (fr && tr)
        e->cx1 = e->cx2 = (e->x1 > e->x2 ? e->x1 : e->x2) + reach;
    e->lx = (e->x1 + 3 * e->cx1 + 3 * e->cx2 + e->x2) / 8;
    e->ly = (e->y1 + 3 * e->cy1 + 3 * e->cy2 + e->y2) / 8;
}

static int layout(fa_diagram *d)
{
    int *rank = calloc((size_t)d->nnodes + 1, sizeof *rank);
    if (!rank)
        return -1;
    int nranks = rank_nodes(d, rank);
    bool *linked = calloc((size_t)d->nnodes + 1, sizeof *linked);
    for (int i = 0; linked && i < d->nedges; i++)
        linked[d->edges[i].from] = linked[d->edges[i].to] = true;
    for (int u = 0; linked && u < d->nnodes; u++)
        rank[u] = linked[u] ? rank[u] : nranks;
    int rc = !linked || nranks < 0 || order_columns(d, rank, nranks + 1) != 0 ? -1 : 0;
    free(linked);
    if (rc == 0)
        place_nodes(d, rank, nranks);
    free(rank);
    if (rc != 0 || spread_ends(d) != 0)
        return -1;
    for (int i = 0; i < d->nedges; i++)
        shape_edge(d, &d->edges[i]);
    return 0;
}

/* Every mapped role of a deployed product is shown, with or without
 * rules, since it is part of the deployment. */
static void add_mapped_roles(fa_diagram *d, int *index, const fa_audit *a)
{
    for (int r = 0; a->site && r < a->rs->nroles; r++)
        if (a->site->role_mapped[r] && a->site->product_deployed[a->rs->roles[r].product])
            node_of(d, index, a, r);
}

fa_diagram *fa_diagram_build(const fa_audit *a)
{
    fa_diagram *d = calloc(1, sizeof *d);
    int *index = malloc(((size_t)a->rs->nroles + 1) * sizeof *index);
    size_t maxitems = (size_t)a->rs->nrules + a->undoc.n + 1;
    item *it = malloc(maxitems * sizeof *it);
    if (d) {
        d->nodes = calloc((size_t)a->rs->nroles + 1, sizeof *d->nodes);
        d->edges = calloc(maxitems, sizeof *d->edges);
    }
    if (!d || !index || !it || !d->nodes || !d->edges)
        goto fail;
    for (int i = 0; i <= a->rs->nroles; i++)
        index[i] = -1;
    d->port_only = a->site == NULL;
    add_mapped_roles(d, index, a);
    int nitems = collect_items(d, index, a, it);
    if (make_edges(d, a, it, nitems) != 0 || layout(d) != 0)
        goto fail;
    free(it);
    free(index);
    return d;
fail:
    free(it);
    free(index);
    fa_diagram_free(d);
    return NULL;
}
