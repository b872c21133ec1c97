import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'portcullis:public';

/** Opens a route to callers without an access token. Everything else requires one. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
