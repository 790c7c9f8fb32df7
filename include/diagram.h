/* diagram.h - the deployment as a graph: the roles as nodes (with the
 * addresses the site gives them), the documented rules as edges coloured
 * by their status, and wrong-direction and undocumented traffic between
 * inventory hosts as edges of their own. Laid out here, in columns, so the
 * picture is the same on every machine; dot_report.c writes it as DOT and
 * html_svg.c draws it as SVG. Built from the audit's facts after
 * fa_audit_finish. */
#ifndef FLOWAUDIT_DIAGRAM_H
#define FLOWAUDIT_DIAGRAM_H

#include <stdbool.h>
#include <stdio.h>

#include "audit.h"

#define FA_DIAGRAM_NODE_W 170    /* pixels */
#define FA_DIAGRAM_ADDR_LINES 3  /* addresses shown in a node, then "+N more" */

/* Worst first: where several rules join the same two roles, the edge
 * shows the worst. */
typedef enum fa_edge_kind {
    FA_EDGE_REJECTED,
    FA_EDGE_BLOCKED,
    FA_EDGE_WRONG_DIRECTION,
    FA_EDGE_UNDOCUMENTED,
    FA_EDGE_NOT_SEEN,
    FA_EDGE_UNCONFIRMED,
    FA_EDGE_SEEN,
    FA_EDGE_KINDS
} fa_edge_kind;

typedef struct fa_diagram_node {
    int role;                /* index into ruleset.roles, or FA_ROLE_ANY */
    char label[2 * 48];      /* "product.role" */
    const char *description; /* the rule file's, or NULL */
    char addrs[FA_DIAGRAM_ADDR_LINES + 1][64]; /* lines of addresses (or members) */
    int naddrs;
    int col, row;            /* layout: column, place in it */
    int x, y, w, h;          /* layout: pixels */
    double weight;           /* layout: barycentre of its neighbours */
} fa_diagram_node;

typedef struct fa_diagram_edge {
    int from, to;            /* indices into nodes */
    fa_edge_kind kind;       /* the worst of what it stands for */
    char label[64];          /* ids or ports of its items that are not "seen", worst first, cut */
    char *detail;            /* every item with its status, one per line (owned) */
    bool ranks;              /* a documented rule's edge: it decides the columns */
    int x1, y1, x2, y2;      /* layout: where it leaves and arrives */
    int cx1, cy1, cx2, cy2;  /* layout: the cubic curve's control points */
    int lx, ly;              /* layout: where its label goes */
} fa_diagram_edge;

typedef struct fa_diagram {
    fa_diagram_node *nodes; int nnodes;
    fa_diagram_edge *edges; int nedges;
    int width, height;       /* pixels of the laid-out picture */
    bool port_only;          /* no site: roles were not verified, no addresses */
} fa_diagram;

/* Builds and lays out the diagram of a finished audit. Returns a new
 * diagram (fa_diagram_free) or NULL when out of memory. */
fa_diagram *fa_diagram_build(const fa_audit *a);
void fa_diagram_free(fa_diagram *d);

/* "rejected", "wrong direction", ... for legends and DOT. */
const char *fa_edge_kind_name(fa_edge_kind k);
/* Colour (#rrggbb) and dash pattern (SVG stroke-dasharray, "" for solid). */
const char *fa_edge_kind_color(fa_edge_kind k);
const char *fa_edge_kind_dash(fa_edge_kind k);

/* The diagram as a DOT graph (dot_report.c). Returns 0 or -1 on a write
 * error. */
int fa_dot_write(const fa_diagram *d, FILE *out);

#endif
