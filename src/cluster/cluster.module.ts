import { Global, Module } from '@nestjs/common';
import { ClusterEvents } from './cluster-events.service.js';

/** How instances sharing one database tell each other what changed. */
@Global()
@Module({ providers: [ClusterEvents], exports: [ClusterEvents] })
export class ClusterModule {}
