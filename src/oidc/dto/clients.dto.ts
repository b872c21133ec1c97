import { applyDecorators } from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { HasNoInvisibleCharacters } from '../../common/validation/field-rules.js';
import type { ClientView } from '../oidc-clients.service.js';

export const MAX_REDIRECT_URIS = 20;
export const MAX_URI_LENGTH = 2000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI as OpenID Connect matches it: exact, absolute, no fragment, no credentials;
 * https, or http only to this machine (an application in development).
 */
export function isRedirectUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > MAX_URI_LENGTH || /\s/.test(value)) {
    return false;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || value.includes('#') || url.username || url.password) {
    return false;
  }
  return (
    url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
  );
}

const REDIRECT_URI_RULE =
  'an absolute https URL (http only for localhost, 127.0.0.1 or [::1]) without a fragment or credentials';

function RedirectUris(options: { optional: boolean; description: string }): PropertyDecorator {
  const schema: ApiPropertyOptions = {
    type: 'array',
    items: { type: 'string', format: 'uri', maxLength: MAX_URI_LENGTH },
    minItems: options.optional ? 0 : 1,
    maxItems: MAX_REDIRECT_URIS,
    description: `${options.description}; each ${REDIRECT_URI_RULE}, matched exactly`,
    example: ['https://app.example.com/callback'],
  };
  return applyDecorators(
    options.optional ? ApiPropertyOptional(schema) : ApiProperty(schema),
    ...(options.optional ? [IsOptional()] : [ArrayMinSize(1)]),
    IsArray(),
    ArrayMaxSize(MAX_REDIRECT_URIS),
    ArrayUnique(),
    IsString({ each: true }),
    ValidateBy(
      {
        name: 'redirectUri',
        validator: {
          validate: (value: unknown) => isRedirectUri(value),
          defaultMessage: (args) =>
            `each of ${args?.property ?? 'the URIs'} must be ${REDIRECT_URI_RULE}`,
        },
      },
      { each: true },
    ),
  );
}

function ClientName(optional: boolean): PropertyDecorator {
  const schema = {
    minLength: 1,
    maxLength: 100,
    example: 'Wiki',
    description: 'shown to users on the consent page',
  };
  return applyDecorators(
    optional ? ApiPropertyOptional(schema) : ApiProperty(schema),
    ...(optional ? [IsOptional()] : []),
    IsString(),
    MinLength(1),
    MaxLength(100),
    HasNoInvisibleCharacters(),
  );
}

export class CreateClientDto {
  @ClientName(false) name!: string;

  @RedirectUris({ optional: false, description: 'where the authorization answers may be sent' })
  redirectUris!: string[];

  @RedirectUris({
    optional: true,
    description: 'where the application may ask to land after sign-out',
  })
  postLogoutRedirectUris?: string[];

  @ApiPropertyOptional({
    default: false,
    description:
      'a browser or native application that cannot keep a secret: no secret, PKCE required',
  })
  @IsOptional()
  @IsBoolean()
  public?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: "one of the operator's own applications: its users are not asked for consent",
  })
  @IsOptional()
  @IsBoolean()
  firstParty?: boolean;
}

/** Each field is optional; whether a client is public is fixed at creation. */
export class UpdateClientDto {
  @ClientName(true) name?: string;

  @RedirectUris({ optional: true, description: 'replaces the redirect URIs' })
  redirectUris?: string[];

  @RedirectUris({ optional: true, description: 'replaces the post-logout redirect URIs' })
  postLogoutRedirectUris?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  firstParty?: boolean;
}

/** A client as admins see it. Never holds the secret or its hash. */
export class ClientDto {
  @ApiProperty({ example: 'G6c0m7Qb2k8yQmVb0x9Zpw' }) clientId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) redirectUris!: string[];
  @ApiProperty({ type: [String] }) postLogoutRedirectUris!: string[];
  @ApiProperty() public!: boolean;
  @ApiProperty() firstParty!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(c: ClientView): ClientDto {
    return {
      clientId: c.clientId,
      name: c.name,
      redirectUris: c.redirectUris,
      postLogoutRedirectUris: c.postLogoutRedirectUris,
      public: c.isPublic,
      firstParty: c.firstParty,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }
}

export class CreatedClientDto extends ClientDto {
  @ApiPropertyOptional({
    description:
      'only for a confidential client, and only in this answer: it is stored hashed and cannot be shown again',
  })
  clientSecret?: string;
}

export class ClientSecretDto {
  @ApiProperty({ example: 'G6c0m7Qb2k8yQmVb0x9Zpw' }) clientId!: string;
  @ApiProperty({
    description: 'shown only in this answer; the previous secret stops working at once',
  })
  clientSecret!: string;
}

export class ClientListDto {
  @ApiProperty({ type: [ClientDto], description: 'oldest first' }) items!: ClientDto[];
}
