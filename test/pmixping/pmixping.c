/*
 * pmixping: a PMIx client for the test image ud-test/pmixping (built by
 * scripts/testenv.sh). It connects to the PMIx server of its Slurm step
 * (srun --mpi=pmix), asks for its job's size, meets the other ranks in a
 * fence and prints one line:
 *
 *   pmixping: rank=R size=S
 *
 * Exit 1, with the PMIx error on stderr, when it cannot reach the server.
 */
#include <pmix.h>
#include <stdio.h>

static int fail(const char *what, pmix_status_t rc)
{
	fprintf(stderr, "pmixping: %s: %s\n", what, PMIx_Error_string(rc));
	return 1;
}

int main(void)
{
	pmix_proc_t me, all;
	pmix_value_t *val = NULL;
	pmix_status_t rc;
	uint32_t size;

	if ((rc = PMIx_Init(&me, NULL, 0)) != PMIX_SUCCESS)
		return fail("PMIx_Init", rc);
	PMIX_LOAD_PROCID(&all, me.nspace, PMIX_RANK_WILDCARD);
	if ((rc = PMIx_Get(&all, PMIX_JOB_SIZE, NULL, 0, &val)) != PMIX_SUCCESS)
		return fail("PMIx_Get(job size)", rc);
	size = val->data.uint32;
	PMIX_VALUE_RELEASE(val);

	/* A fence with the other ranks: the server answers only when all are in. */
	if ((rc = PMIx_Fence(&all, 1, NULL, 0)) != PMIX_SUCCESS)
		return fail("PMIx_Fence", rc);

	printf("pmixping: rank=%u size=%u\n", me.rank, size);
	fflush(stdout);
	PMIx_Finalize(NULL, 0);
	return 0;
}
