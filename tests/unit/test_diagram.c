/* test_diagram.c - the deployment diagram's graph and layout, on matrices
 * written here: a wide fan-out (more roles than a column holds), a long
 * chain, a cycle and a role with no rule. What must hold comes from what
 * a reader needs: no two boxes overlap, every box and arrow lies inside
 * the picture, arrows start and end on a box's side, a rule's source lies
 * left of its destination unless a cycle forbids it, and the same input
 * gives the same picture. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "diagram.h"
#include "rules.h"

#define ROLES 34

/* hub -> r0..r29 (fan-out), r0 -> c1 -> c2 -> r0 (a cycle), a chain
 * r1 -> r2 -> r3, and "lonely", named by no rule. */
static char *matrix(void)
{
    static char text[16384];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "product p \"P\"\nrole hub \"hub\"\nrole lonely \"x\"\n"
                                                     "role c1 \"c1\"\nrole c2 \"c2\"\n");
    for (int i = 0; i < ROLES - 4; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "role r%d \"role %d\"\n", i, i);
    for (int i = 0; i < ROLES - 4; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "rule P-%03d hub -> r%d tcp %d\n    purpose \"x\"\n", i, i,
                              1000 + i);
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "rule P-100 r0 -> c1 tcp 1\n    purpose \"x\"\nrule P-101 c1 -> c2 tcp 2\n    purpose \"x\"\n"
                          "rule P-102 c2 -> r0 tcp 3\n    purpose \"x\"\nrule P-103 r1 -> r2 tcp 4\n    purpose \"x\"\n"
                          "rule P-104 r2 -> r3 tcp 5\n    purpose \"x\"\nrule P-105 hub -> hub tcp 6\n"
                          "    purpose \"x\"\n");
    return text;
}

static fa_diagram *build(fa_ruleset **rs, fa_audit **a)
{
    char err[512];
    *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(*rs, "p.rules", matrix(), err, sizeof err), 0);
    *a = fa_audit_new(*rs, NULL);
    assert_non_null(*a);
    fa_audit_finish(*a);
    fa_diagram *d = fa_diagram_build(*a);
    assert_non_null(d);
    return d;
}

static int node_named(const fa_diagram *d, const char *label)
{
    for (int i = 0; i < d->nnodes; i++)
        if (strcmp(d->nodes[i].label, label) == 0)
            return i;
    fail_msg("no node %s", label);
    return -1;
}

static bool overlap(const fa_diagram_node *p, const fa_diagram_node *q)
{
    return p->x < q->x + q->w && q->x < p->x + p->w && p->y < q->y + q->h && q->y < p->y + p->h;
}

static void test_boxes(void **state)
{
    (void)state;
    fa_ruleset *rs;
    fa_audit *a;
    fa_diagram *d = build(&rs, &a);
    /* Port-only: the roles the rules name, "lonely" is in none. */
    assert_true(d->port_only);
    assert_int_equal(d->nnodes, ROLES - 1);
    for (int i = 0; i < d->nnodes; i++) {
        const fa_diagram_node *p = &d->nodes[i];
        assert_true(p->x >= 0 && p->y >= 0 && p->x + p->w <= d->width && p->y + p->h <= d->height);
        for (int j = i + 1; j < d->nnodes; j++)
            assert_false(overlap(p, &d->nodes[j]));
    }
    /* The fan-out does not fit one column: split, at most 10 to a column. */
    int per_col[ROLES] = {0};
    for (int i = 0; i < d->nnodes; i++)
        assert_true(++per_col[d->nodes[i].col] <= 10);
    fa_diagram_free(d);
    fa_audit_free(a);
    fa_rules_free(rs);
}

static void test_edges(void **state)
{
    (void)state;
    fa_ruleset *rs;
    fa_audit *a;
    fa_diagram *d = build(&rs, &a);
    /* One edge per rule here: no two rules join the same roles. */
    assert_int_equal(d->nedges, ROLES - 4 + 6);
    int hub = node_named(d, "p.hub"), r1 = node_named(d, "p.r1"), r2 = node_named(d, "p.r2"),
        r3 = node_named(d, "p.r3");
    assert_true(d->nodes[hub].x < d->nodes[r1].x);
    assert_true(d->nodes[r1].x < d->nodes[r2].x && d->nodes[r2].x < d->nodes[r3].x);
    for (int i = 0; i < d->nedges; i++) {
        const fa_diagram_edge *e = &d->edges[i];
        const fa_diagram_node *f = &d->nodes[e->from], *t = &d->nodes[e->to];
        /* Nothing is seen: every rule is "not seen", labelled with its id. */
        assert_int_equal(e->kind, FA_EDGE_NOT_SEEN);
        assert_true(strncmp(e->label, "P-", 2) == 0);
        assert_true(e->x1 == f->x || e->x1 == f->x + f->w);
        assert_true(e->y1 > f->y && e->y1 < f->y + f->h);
        assert_true(e->x2 == t->x || e->x2 == t->x + t->w);
        assert_true(e->y2 > t->y && e->y2 < t->y + t->h);
        assert_true(e->cx1 >= 0 && e->cx1 <= d->width && e->cx2 >= 0 && e->cx2 <= d->width);
    }
    fa_diagram_free(d);
    fa_audit_free(a);
    fa_rules_free(rs);
}

static void test_same_twice(void **state)
{
    (void)state;
    fa_ruleset *rs1, *rs2;
    fa_audit *a1, *a2;
    fa_diagram *d1 = build(&rs1, &a1), *d2 = build(&rs2, &a2);
    char *t1 = NULL, *t2 = NULL;
    size_t l1 = 0, l2 = 0;
    FILE *f1 = open_memstream(&t1, &l1), *f2 = open_memstream(&t2, &l2);
    assert_int_equal(fa_dot_write(d1, f1), 0);
    assert_int_equal(fa_dot_write(d2, f2), 0);
    fclose(f1);
    fclose(f2);
    assert_string_equal(t1, t2);
    assert_null(strstr(t1, "p.lonely"));
    for (int i = 0; i < d1->nnodes; i++) {
        assert_int_equal(d1->nodes[i].x, d2->nodes[i].x);
        assert_int_equal(d1->nodes[i].y, d2->nodes[i].y);
    }
    free(t1);
    free(t2);
    fa_diagram_free(d1);
    fa_diagram_free(d2);
    fa_audit_free(a1);
    fa_audit_free(a2);
    fa_rules_free(rs1);
    fa_rules_free(rs2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boxes), cmocka_unit_test(test_edges), cmocka_unit_test(test_same_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
