/**
 * A seeded generator of synthetic but realistic tool catalogs for `tool-search.ts`: about a hundred services
 * (GitHub, Slack, Stripe, Kubernetes, …), each with its own kinds of things, times a set of actions, described in
 * varied wording (several phrasings per action, optional extra sentences), with typed and described input
 * properties, named as the tool router names federated tools (`{adapter}__{action}_{thing}`); and the fixed query
 * set, each query paraphrasing one generated tool's description and naming that tool.
 */
import { seededRandom as seeded } from '../../test/seeded-random.js';

let random = seeded(17);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** A service: its adapter name, how it is written in prose, and the things it holds. */
export interface Service {
  readonly id: string;
  readonly label: string;
  readonly things: readonly string[];
}

export const SERVICES: readonly Service[] = [
  {
    id: 'github',
    label: 'GitHub',
    things: [
      'repository',
      'issue',
      'pull request',
      'branch',
      'commit',
      'release',
      'workflow run',
      'gist',
      'label',
      'milestone',
      'webhook',
      'collaborator',
    ],
  },
  {
    id: 'gitlab',
    label: 'GitLab',
    things: [
      'project',
      'merge request',
      'pipeline',
      'issue',
      'runner',
      'tag',
      'snippet',
      'deploy key',
      'environment',
    ],
  },
  {
    id: 'bitbucket',
    label: 'Bitbucket',
    things: ['repository', 'pull request', 'pipeline', 'branch restriction', 'workspace'],
  },
  {
    id: 'jira',
    label: 'Jira',
    things: ['issue', 'sprint', 'board', 'epic', 'comment', 'project', 'worklog', 'version', 'filter'],
  },
  { id: 'linear', label: 'Linear', things: ['issue', 'project', 'cycle', 'team', 'label', 'roadmap'] },
  { id: 'asana', label: 'Asana', things: ['task', 'project', 'section', 'portfolio', 'tag', 'goal'] },
  { id: 'trello', label: 'Trello', things: ['card', 'board', 'list', 'checklist', 'member'] },
  {
    id: 'slack',
    label: 'Slack',
    things: ['message', 'channel', 'user', 'reaction', 'file', 'reminder', 'thread', 'user group'],
  },
  { id: 'teams', label: 'Microsoft Teams', things: ['message', 'channel', 'meeting', 'team', 'chat'] },
  { id: 'discord', label: 'Discord', things: ['message', 'channel', 'role', 'guild member', 'webhook'] },
  { id: 'gmail', label: 'Gmail', things: ['email', 'draft', 'label', 'thread', 'attachment', 'filter'] },
  { id: 'outlook', label: 'Outlook', things: ['email', 'calendar event', 'contact', 'folder', 'rule'] },
  { id: 'gcal', label: 'Google Calendar', things: ['event', 'calendar', 'attendee', 'free busy slot'] },
  {
    id: 'gdrive',
    label: 'Google Drive',
    things: ['file', 'folder', 'permission', 'comment', 'revision', 'shared drive'],
  },
  { id: 'dropbox', label: 'Dropbox', things: ['file', 'folder', 'shared link', 'file request'] },
  { id: 'box', label: 'Box', things: ['file', 'folder', 'collaboration', 'retention policy'] },
  { id: 'notion', label: 'Notion', things: ['page', 'database', 'block', 'comment', 'database row'] },
  { id: 'confluence', label: 'Confluence', things: ['page', 'space', 'attachment', 'comment', 'blog post'] },
  {
    id: 'salesforce',
    label: 'Salesforce',
    things: ['lead', 'opportunity', 'account', 'contact', 'case', 'campaign', 'report'],
  },
  {
    id: 'hubspot',
    label: 'HubSpot',
    things: ['contact', 'deal', 'company', 'ticket', 'marketing email', 'form submission'],
  },
  {
    id: 'zendesk',
    label: 'Zendesk',
    things: ['ticket', 'user', 'organization', 'macro', 'help center article'],
  },
  { id: 'intercom', label: 'Intercom', things: ['conversation', 'contact', 'article', 'segment'] },
  {
    id: 'stripe',
    label: 'Stripe',
    things: [
      'customer',
      'invoice',
      'payment intent',
      'subscription',
      'refund',
      'payout',
      'product',
      'price',
      'coupon',
    ],
  },
  { id: 'paypal', label: 'PayPal', things: ['order', 'payment', 'dispute', 'payout batch'] },
  {
    id: 'shopify',
    label: 'Shopify',
    things: ['product', 'order', 'customer', 'inventory level', 'discount code', 'fulfillment', 'collection'],
  },
  {
    id: 'quickbooks',
    label: 'QuickBooks',
    things: ['invoice', 'bill', 'expense', 'vendor', 'journal entry', 'account'],
  },
  {
    id: 'xero',
    label: 'Xero',
    things: ['invoice', 'bank transaction', 'contact', 'purchase order', 'credit note'],
  },
  {
    id: 'postgres',
    label: 'PostgreSQL',
    things: ['table', 'query', 'index', 'schema', 'role', 'backup', 'replication slot'],
  },
  { id: 'mysql', label: 'MySQL', things: ['table', 'database', 'user', 'stored procedure', 'slow query'] },
  {
    id: 'mongodb',
    label: 'MongoDB',
    things: ['collection', 'document', 'index', 'aggregation pipeline', 'cluster'],
  },
  { id: 'redis', label: 'Redis', things: ['key', 'stream', 'hash', 'sorted set', 'pub sub channel'] },
  { id: 'snowflake', label: 'Snowflake', things: ['warehouse', 'query', 'table', 'stage', 'task'] },
  { id: 'bigquery', label: 'BigQuery', things: ['dataset', 'table', 'job', 'view', 'routine'] },
  {
    id: 'elastic',
    label: 'Elasticsearch',
    things: ['index', 'document', 'alias', 'snapshot', 'ingest pipeline'],
  },
  {
    id: 's3',
    label: 'Amazon S3',
    things: ['bucket', 'object', 'lifecycle rule', 'bucket policy', 'multipart upload'],
  },
  {
    id: 'ec2',
    label: 'Amazon EC2',
    things: ['instance', 'security group', 'volume', 'snapshot', 'key pair', 'elastic ip'],
  },
  { id: 'lambda', label: 'AWS Lambda', things: ['function', 'alias', 'layer', 'event source mapping'] },
  { id: 'gcs', label: 'Google Cloud Storage', things: ['bucket', 'object', 'notification', 'hmac key'] },
  {
    id: 'azure',
    label: 'Azure',
    things: ['resource group', 'virtual machine', 'storage account', 'key vault', 'app service'],
  },
  {
    id: 'k8s',
    label: 'Kubernetes',
    things: ['pod', 'deployment', 'service', 'namespace', 'config map', 'secret', 'job', 'node', 'ingress'],
  },
  { id: 'docker', label: 'Docker', things: ['container', 'image', 'volume', 'network', 'compose stack'] },
  {
    id: 'terraform',
    label: 'Terraform Cloud',
    things: ['workspace', 'run', 'state version', 'variable', 'policy set'],
  },
  { id: 'vercel', label: 'Vercel', things: ['deployment', 'project', 'domain', 'environment variable'] },
  {
    id: 'cloudflare',
    label: 'Cloudflare',
    things: ['dns record', 'zone', 'worker', 'firewall rule', 'page rule'],
  },
  {
    id: 'datadog',
    label: 'Datadog',
    things: ['monitor', 'dashboard', 'metric', 'log', 'incident', 'synthetic test'],
  },
  {
    id: 'grafana',
    label: 'Grafana',
    things: ['dashboard', 'alert rule', 'data source', 'annotation', 'folder'],
  },
  {
    id: 'pagerduty',
    label: 'PagerDuty',
    things: ['incident', 'schedule', 'on call shift', 'service', 'escalation policy'],
  },
  { id: 'sentry', label: 'Sentry', things: ['issue', 'event', 'release', 'project', 'alert rule'] },
  { id: 'twilio', label: 'Twilio', things: ['sms message', 'phone call', 'phone number', 'verification'] },
  { id: 'sendgrid', label: 'SendGrid', things: ['email', 'template', 'contact list', 'suppression'] },
  { id: 'zoom', label: 'Zoom', things: ['meeting', 'recording', 'webinar', 'participant'] },
  { id: 'figma', label: 'Figma', things: ['file', 'comment', 'component', 'style', 'project'] },
  { id: 'okta', label: 'Okta', things: ['user', 'group', 'application', 'authorization server', 'factor'] },
  { id: 'vault', label: 'HashiCorp Vault', things: ['secret', 'policy', 'token', 'auth method', 'lease'] },
  {
    id: 'workday',
    label: 'Workday',
    things: ['employee', 'time off request', 'payroll run', 'position', 'expense report'],
  },
  { id: 'greenhouse', label: 'Greenhouse', things: ['candidate', 'job', 'interview', 'offer', 'scorecard'] },
  { id: 'airtable', label: 'Airtable', things: ['record', 'base', 'table', 'view', 'field'] },
  { id: 'spotify', label: 'Spotify', things: ['playlist', 'track', 'album', 'podcast episode'] },
  { id: 'maps', label: 'Google Maps', things: ['route', 'place', 'geocode', 'distance matrix', 'elevation'] },
  {
    id: 'weather',
    label: 'OpenWeather',
    things: ['forecast', 'current weather', 'air quality report', 'weather alert'],
  },
  {
    id: 'translate',
    label: 'DeepL',
    things: ['translation', 'glossary', 'document translation', 'language'],
  },
  {
    id: 'circleci',
    label: 'CircleCI',
    things: ['pipeline', 'workflow', 'job', 'context', 'project setting'],
  },
  { id: 'jenkins', label: 'Jenkins', things: ['job', 'build', 'node', 'credential', 'plugin', 'view'] },
  {
    id: 'argocd',
    label: 'Argo CD',
    things: ['application', 'project', 'repository', 'sync window', 'cluster'],
  },
  { id: 'helm', label: 'Helm', things: ['release', 'chart', 'repository', 'values file'] },
  {
    id: 'gcp',
    label: 'Google Cloud',
    things: [
      'compute instance',
      'firewall rule',
      'service account',
      'cloud run service',
      'pubsub topic',
      'cloud sql instance',
    ],
  },
  {
    id: 'dynamodb',
    label: 'Amazon DynamoDB',
    things: ['table', 'item', 'global secondary index', 'backup', 'stream'],
  },
  { id: 'sqs', label: 'Amazon SQS', things: ['queue', 'message', 'dead letter queue', 'queue policy'] },
  {
    id: 'kafka',
    label: 'Apache Kafka',
    things: ['topic', 'consumer group', 'partition', 'acl', 'connector'],
  },
  { id: 'rabbitmq', label: 'RabbitMQ', things: ['queue', 'exchange', 'binding', 'virtual host', 'shovel'] },
  {
    id: 'supabase',
    label: 'Supabase',
    things: ['project', 'table', 'storage bucket', 'edge function', 'auth user'],
  },
  {
    id: 'firebase',
    label: 'Firebase',
    things: ['firestore document', 'auth user', 'hosting release', 'remote config', 'cloud message'],
  },
  { id: 'auth0', label: 'Auth0', things: ['user', 'role', 'connection', 'client application', 'log stream'] },
  {
    id: 'mailchimp',
    label: 'Mailchimp',
    things: ['audience', 'campaign', 'subscriber', 'template', 'automation'],
  },
  { id: 'calendly', label: 'Calendly', things: ['event type', 'scheduled event', 'invitee', 'routing form'] },
  { id: 'docusign', label: 'DocuSign', things: ['envelope', 'template', 'recipient', 'signing group'] },
  {
    id: 'pipedrive',
    label: 'Pipedrive',
    things: ['deal', 'person', 'organization', 'activity', 'pipeline stage'],
  },
  {
    id: 'freshdesk',
    label: 'Freshdesk',
    things: ['ticket', 'contact', 'agent', 'canned response', 'solution article'],
  },
  {
    id: 'servicenow',
    label: 'ServiceNow',
    things: ['incident', 'change request', 'problem', 'configuration item', 'knowledge article'],
  },
  { id: 'monday', label: 'monday.com', things: ['item', 'board', 'group', 'update', 'workspace'] },
  { id: 'clickup', label: 'ClickUp', things: ['task', 'list', 'folder', 'space', 'time entry'] },
  { id: 'miro', label: 'Miro', things: ['board', 'sticky note', 'frame', 'connector', 'tag'] },
  { id: 'canva', label: 'Canva', things: ['design', 'brand template', 'asset', 'folder'] },
  {
    id: 'youtube',
    label: 'YouTube',
    things: ['video', 'playlist', 'comment thread', 'caption track', 'channel section'],
  },
  { id: 'twitter', label: 'X (Twitter)', things: ['post', 'direct message', 'list', 'follower', 'bookmark'] },
  { id: 'linkedin', label: 'LinkedIn', things: ['post', 'connection', 'company page', 'job posting'] },
  { id: 'reddit', label: 'Reddit', things: ['post', 'comment', 'subreddit', 'saved item'] },
  { id: 'wordpress', label: 'WordPress', things: ['post', 'page', 'media item', 'plugin', 'category'] },
  {
    id: 'contentful',
    label: 'Contentful',
    things: ['entry', 'asset', 'content type', 'environment', 'locale'],
  },
  { id: 'algolia', label: 'Algolia', things: ['index', 'record', 'synonym', 'query rule', 'api key'] },
  { id: 'segment', label: 'Segment', things: ['source', 'destination', 'tracking plan', 'audience'] },
  { id: 'mixpanel', label: 'Mixpanel', things: ['event', 'funnel', 'cohort', 'user profile', 'annotation'] },
  { id: 'amplitude', label: 'Amplitude', things: ['chart', 'cohort', 'event type', 'experiment'] },
  { id: 'looker', label: 'Looker', things: ['look', 'dashboard', 'explore', 'schedule', 'folder'] },
  { id: 'tableau', label: 'Tableau', things: ['workbook', 'data source', 'view', 'project', 'subscription'] },
  { id: 'dbt', label: 'dbt Cloud', things: ['job', 'run', 'model', 'environment', 'project'] },
  {
    id: 'airflow',
    label: 'Apache Airflow',
    things: ['dag', 'dag run', 'task instance', 'connection', 'pool'],
  },
  {
    id: 'databricks',
    label: 'Databricks',
    things: ['cluster', 'notebook', 'job', 'sql warehouse', 'secret scope'],
  },
  {
    id: 'openai',
    label: 'OpenAI',
    things: ['assistant', 'file', 'fine tuning job', 'vector store', 'batch'],
  },
  { id: 'huggingface', label: 'Hugging Face', things: ['model', 'dataset', 'space', 'inference endpoint'] },
  { id: 'pinecone', label: 'Pinecone', things: ['index', 'vector', 'namespace', 'collection'] },
  { id: 'bamboohr', label: 'BambooHR', things: ['employee', 'time off request', 'report', 'job opening'] },
  { id: 'gusto', label: 'Gusto', things: ['employee', 'payroll', 'contractor', 'pay schedule'] },
  {
    id: 'expensify',
    label: 'Expensify',
    things: ['expense report', 'receipt', 'policy', 'card transaction'],
  },
  {
    id: 'netsuite',
    label: 'NetSuite',
    things: ['sales order', 'customer record', 'item fulfillment', 'journal entry', 'vendor bill'],
  },
  {
    id: 'sap',
    label: 'SAP S/4HANA',
    things: ['purchase order', 'material', 'business partner', 'goods receipt', 'cost center'],
  },
  {
    id: 'ups',
    label: 'UPS',
    things: ['shipment', 'shipping label', 'pickup', 'tracking event', 'rate quote'],
  },
  { id: 'fedex', label: 'FedEx', things: ['shipment', 'shipping label', 'pickup', 'return label'] },
  { id: 'booking', label: 'Booking.com', things: ['reservation', 'property', 'room rate', 'guest review'] },
  { id: 'uber', label: 'Uber', things: ['ride', 'ride estimate', 'receipt', 'saved place'] },
  { id: 'strava', label: 'Strava', things: ['activity', 'route', 'segment', 'club'] },
  {
    id: 'github-actions',
    label: 'GitHub Actions',
    things: ['workflow', 'secret', 'artifact', 'self hosted runner', 'cache'],
  },
];

/** An action: the verb in names, and several ways a description says what it does. */
interface Action {
  readonly id: string;
  readonly say: readonly ((thing: string, things: string, service: string) => string)[];
  readonly params: (thing: string) => Record<string, { type: string; description: string }>;
}

const idOf = (thing: string) => `${thing.replace(/ /g, '_')}_id`;
const plural = (thing: string) =>
  thing.endsWith('y') && !/[aeiou]y$/.test(thing)
    ? `${thing.slice(0, -1)}ies`
    : /(s|sh|ch|x)$/.test(thing)
      ? `${thing}es`
      : `${thing}s`;

const ACTIONS: readonly Action[] = [
  {
    id: 'list',
    say: [
      (_t, ts, s) => `List ${ts} in ${s}. Results are paginated.`,
      (_t, ts, s) => `Returns all ${ts} of the ${s} workspace, newest first.`,
      (_t, ts, s) => `Enumerate the ${ts} visible to the authenticated ${s} user.`,
    ],
    params: () => ({
      limit: { type: 'integer', description: 'Maximum number of items to return' },
      cursor: { type: 'string', description: 'Pagination cursor from a previous response' },
    }),
  },
  {
    id: 'get',
    say: [
      (t, _ts, s) => `Get a single ${t} from ${s} by its ID.`,
      (t, _ts, s) => `Fetch the full details of one ${s} ${t}.`,
      (t, _ts, s) => `Retrieve a ${t} and its metadata from ${s}.`,
    ],
    params: (t) => ({ [idOf(t)]: { type: 'string', description: `ID of the ${t}` } }),
  },
  {
    id: 'create',
    say: [
      (t, _ts, s) => `Create a new ${t} in ${s}.`,
      (t, _ts, s) => `Adds a ${t} to ${s} and returns it.`,
      (t, _ts, s) => `Make a new ${s} ${t} with the given fields.`,
    ],
    params: (t) => ({
      name: { type: 'string', description: `Name or title of the ${t}` },
      description: { type: 'string', description: `Optional longer text for the ${t}` },
    }),
  },
  {
    id: 'update',
    say: [
      (t, _ts, s) => `Update an existing ${t} in ${s}; only the given fields change.`,
      (t, _ts, s) => `Modify the fields of a ${s} ${t}.`,
      (t, _ts, s) => `Edit a ${t} on ${s}.`,
    ],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t} to change` },
      fields: { type: 'object', description: 'Fields to set, by name' },
    }),
  },
  {
    id: 'delete',
    say: [
      (t, _ts, s) => `Permanently delete a ${t} from ${s}. This cannot be undone.`,
      (t, _ts, s) => `Remove a ${t} from ${s}.`,
      (t, _ts, s) => `Deletes the given ${s} ${t}.`,
    ],
    params: (t) => ({ [idOf(t)]: { type: 'string', description: `ID of the ${t} to delete` } }),
  },
  {
    id: 'search',
    say: [
      (_t, ts, s) => `Search ${s} ${ts} by keyword, with optional filters.`,
      (_t, ts, s) => `Full-text search across ${ts} in ${s}.`,
      (_t, ts, s) => `Find ${ts} in ${s} matching a query string.`,
    ],
    params: () => ({
      query: { type: 'string', description: 'Search terms' },
      limit: { type: 'integer', description: 'Maximum number of results' },
    }),
  },
  {
    id: 'archive',
    say: [
      (t, _ts, s) => `Archive a ${t} in ${s} so it no longer shows up by default.`,
      (t, _ts, s) => `Moves a ${s} ${t} to the archive.`,
    ],
    params: (t) => ({ [idOf(t)]: { type: 'string', description: `ID of the ${t}` } }),
  },
  {
    id: 'restore',
    say: [
      (t, _ts, s) => `Restore an archived or deleted ${t} in ${s}.`,
      (t, _ts, s) => `Bring back a ${s} ${t} from the trash.`,
    ],
    params: (t) => ({ [idOf(t)]: { type: 'string', description: `ID of the ${t}` } }),
  },
  {
    id: 'export',
    say: [
      (_t, ts, s) => `Export ${ts} from ${s} as CSV or JSON.`,
      (_t, ts, s) => `Download a file with every ${s} ${ts.slice(0, -1)} record.`,
    ],
    params: () => ({ format: { type: 'string', description: 'csv or json' } }),
  },
  {
    id: 'import',
    say: [
      (_t, ts, s) => `Import ${ts} into ${s} from a CSV file.`,
      (_t, ts, s) => `Bulk upload ${ts} to ${s}.`,
    ],
    params: () => ({ file_url: { type: 'string', description: 'URL of the file to read' } }),
  },
  {
    id: 'count',
    say: [
      (_t, ts, s) => `Count the ${ts} in ${s} that match a filter.`,
      (_t, ts, s) => `Returns the number of ${s} ${ts}.`,
    ],
    params: () => ({ filter: { type: 'string', description: 'Filter expression' } }),
  },
  {
    id: 'watch',
    say: [
      (_t, ts, s) => `Subscribe to changes of ${ts} in ${s} and receive a webhook call for each.`,
      (_t, ts, s) => `Watch ${s} ${ts} for updates.`,
    ],
    params: () => ({ callback_url: { type: 'string', description: 'Where change events are delivered' } }),
  },
  {
    id: 'assign',
    say: [(t, _ts, s) => `Assign a ${s} ${t} to a user.`, (t, _ts, s) => `Set the owner of a ${t} in ${s}.`],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      assignee: { type: 'string', description: 'User who becomes responsible' },
    }),
  },
  {
    id: 'comment_on',
    say: [(t, _ts, s) => `Add a comment to a ${t} in ${s}.`, (t, _ts, s) => `Post a note on a ${s} ${t}.`],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      body: { type: 'string', description: 'Comment text, Markdown allowed' },
    }),
  },
  {
    id: 'clone',
    say: [
      (t, _ts, s) => `Duplicate a ${t} in ${s}, with all its settings.`,
      (t, _ts, s) => `Make a copy of a ${s} ${t}.`,
    ],
    params: (t) => ({ [idOf(t)]: { type: 'string', description: `ID of the ${t} to copy` } }),
  },
  {
    id: 'share',
    say: [
      (t, _ts, s) => `Share a ${s} ${t} with another user or group.`,
      (t, _ts, s) => `Grant someone access to a ${t} in ${s}.`,
    ],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      email: { type: 'string', description: 'Email address of the person to share with' },
      role: { type: 'string', description: 'viewer, commenter or editor' },
    }),
  },
  {
    id: 'move',
    say: [
      (t, _ts, s) => `Move a ${t} to another place in ${s}.`,
      (t, _ts, s) => `Transfer a ${s} ${t} to a different parent.`,
    ],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      destination: { type: 'string', description: 'Where it goes' },
    }),
  },
  {
    id: 'tag',
    say: [
      (t, _ts, s) => `Attach labels to a ${t} in ${s} for grouping.`,
      (t, _ts, s) => `Tag a ${s} ${t} with one or more keywords.`,
    ],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      tags: { type: 'array', description: 'Labels to add' },
    }),
  },
  {
    id: 'history_of',
    say: [
      (t, _ts, s) => `Show the change history (audit trail) of a ${t} in ${s}.`,
      (t, _ts, s) => `Lists past revisions and who changed a ${s} ${t}, and when.`,
    ],
    params: (t) => ({
      [idOf(t)]: { type: 'string', description: `ID of the ${t}` },
      since: { type: 'string', description: 'Only changes after this ISO 8601 time' },
    }),
  },
];

const EXTRAS = [
  '',
  '',
  ' Requires an API token with write access.',
  ' Rate limited to 100 requests per minute.',
  ' Returns the raw API response as JSON.',
  ' Honors the workspace default time zone.',
  ' Useful for automations and reports.',
];

const snake = (thing: string) => thing.replace(/ /g, '_');
const titleCase = (text: string) =>
  text.replace(
    /(^|[ _])(\w)/g,
    (_m, sep: string, c: string) => `${sep === '_' ? ' ' : sep}${c.toUpperCase()}`,
  );

/** One generated tool, before it becomes a catalog entry. */
export interface GeneratedTool {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly inputSchema: object;
}

function toolOf(service: Service, thing: string, action: Action): GeneratedTool {
  const description = pick(action.say)(thing, plural(thing), service.label) + pick(EXTRAS);
  const properties = action.params(thing);
  if (random() < 0.3)
    properties.dry_run = { type: 'boolean', description: 'Validate without changing anything' };
  return {
    name: `${service.id}__${action.id}_${snake(thing)}`,
    ...(random() < 0.5 && { title: `${titleCase(action.id)} ${titleCase(thing)} (${service.label})` }),
    description,
    inputSchema: { type: 'object', properties, required: Object.keys(properties).slice(0, 1) },
  };
}

/**
 * The fixed query set: each paraphrases what one tool does, in words a person or a model would use, and names the
 * tool it expects. No query contains its tool's name; most use a verb other than the description's.
 */
export const QUERIES: readonly (readonly [query: string, expected: string])[] = [
  ['open a pull request on github', 'github__create_pull_request'],
  ['get rid of a slack channel', 'slack__delete_channel'],
  ['write a note on a jira ticket issue', 'jira__comment_on_issue'],
  ['refund a payment to a stripe customer', 'stripe__create_refund'],
  ['how many open zendesk tickets are there', 'zendesk__count_ticket'],
  ['send an sms text message with twilio', 'twilio__create_sms_message'],
  ['schedule a meeting in google calendar', 'gcal__create_event'],
  ['remove a kubernetes pod', 'k8s__delete_pod'],
  ['look up a salesforce lead by id', 'salesforce__get_lead'],
  ['give a colleague access to a google drive folder', 'gdrive__share_folder'],
  ['find confluence pages about onboarding', 'confluence__search_page'],
  ['duplicate a notion page', 'notion__clone_page'],
  ['change a hubspot deal', 'hubspot__update_deal'],
  ['download all shopify orders as csv', 'shopify__export_order'],
  ['bulk load contacts into sendgrid contact list', 'sendgrid__import_contact_list'],
  ['get notified when a datadog monitor changes', 'datadog__watch_monitor'],
  ['hand a pagerduty incident to someone', 'pagerduty__assign_incident'],
  ['undelete a dropbox file from trash', 'dropbox__restore_file'],
  ['put an asana task into the archive', 'asana__archive_task'],
  ['transfer a trello card to another board', 'trello__move_card'],
  ['enumerate the s3 buckets', 's3__list_bucket'],
  ['spin up a new ec2 virtual server instance', 'ec2__create_instance'],
  ['drop a postgres table', 'postgres__delete_table'],
  ['full text search of mongodb documents', 'mongodb__search_document'],
  ['show details of a sentry release', 'sentry__get_release'],
  ['modify a cloudflare dns record', 'cloudflare__update_dns_record'],
  ['new okta group', 'okta__create_group'],
  ['read a secret from hashicorp vault', 'vault__get_secret'],
  ['request time off in workday', 'workday__create_time_off_request'],
  ['add a candidate in greenhouse recruiting', 'greenhouse__create_candidate'],
  ['air quality report from openweather', 'weather__get_air_quality_report'],
  ['set up a new deepl glossary of terms', 'translate__create_glossary'],
  ['start a zoom webinar', 'zoom__create_webinar'],
  ['copy a figma component', 'figma__clone_component'],
  ['remove a gitlab merge request', 'gitlab__delete_merge_request'],
  ['reply to an intercom conversation', 'intercom__comment_on_conversation'],
  ['list the bigquery datasets', 'bigquery__list_dataset'],
  ['delete a redis key', 'redis__delete_key'],
];

/** `count` distinct tools, the same for the same seed; every tool a query expects among them. */
export function generateTools(count: number, seed: number): GeneratedTool[] {
  random = seeded(seed);
  const byName = new Map<string, GeneratedTool>();
  // Every expected tool is in the catalog, whatever the draw.
  for (const [, expected] of QUERIES) {
    const [serviceId, rest] = expected.split('__') as [string, string];
    const service = SERVICES.find((s) => s.id === serviceId)!;
    const action = ACTIONS.filter((a) => rest.startsWith(`${a.id}_`)).sort(
      (a, b) => b.id.length - a.id.length,
    )[0]!;
    const thing = service.things.find((t) => `${action.id}_${snake(t)}` === rest);
    if (!thing) throw new Error(`bench: expected tool ${expected} is not generable`);
    byName.set(expected, toolOf(service, thing, action));
  }
  const space = SERVICES.reduce((n, s) => n + s.things.length, 0) * ACTIONS.length;
  if (count > space) throw new Error(`bench: at most ${space} distinct tools`);
  while (byName.size < count) {
    const service = pick(SERVICES);
    const tool = toolOf(service, pick(service.things), pick(ACTIONS));
    if (!byName.has(tool.name)) byName.set(tool.name, tool);
  }
  return [...byName.values()];
}
