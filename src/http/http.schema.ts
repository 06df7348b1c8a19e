/** TypeBox schemas shared by every route: the error body, health and statistics. */
import { Type } from 'typebox';

/** GET /api/v1/stats */
export const StatsAnswer = Type.Object({
  vm_count: Type.Integer({ description: 'VMs in the environment being served.' }),
  request_count: Type.Integer({
    description:
      'Requests to all endpoints since start-up (errors included; over all workers), not ' +
      'counting the /stats call being answered.',
  }),
  average_request_time: Type.Number({
    description: 'Mean processing time of those requests, in seconds.',
  }),
});

/** The one error body of the API. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable machine-readable code, e.g. vm_not_found.' }),
    message: Type.String({ description: 'What is wrong, for a human.' }),
  }),
});

/** GET /healthz and /readyz */
export const HealthAnswer = Type.Object({
  status: Type.String({ description: 'ok, or why the process is not ready.' }),
});
